"""Schemathesis hooks for `npm run conformance` (scripts/conformance.sh).

JSON Schema cannot say two of the rules the served description states in words, so the tester is told
how to make values that keep them: an IBAN with valid check digits (format `iban`), and a consent
`validUntil` that is not before today (format `date`, only used there). And one rule is per TPP: the
TPP-Redirect-URI header must be one of the calling client's registered redirect URIs.
"""
import datetime
import os
import random

import schemathesis
from hypothesis import strategies as st

# (country, BBAN length) of the countries Assent's IBAN check knows, a few of them
COUNTRIES = [("DE", 18), ("SE", 20), ("FR", 23), ("NL", 14), ("GB", 18), ("ES", 20), ("FI", 14), ("NO", 11)]


def _iban(country: str, bban_digits: str) -> str:
    # NL and GB start their BBAN with a 4-letter bank code
    bban = ("ABNA" + bban_digits[4:]) if country == "NL" else ("NWBK" + bban_digits[4:]) if country == "GB" else bban_digits
    rearranged = bban + country + "00"
    number = int("".join(str(int(c, 36)) for c in rearranged))
    return f"{country}{98 - number % 97:02d}{bban}"


@st.composite
def ibans(draw):
    country, length = draw(st.sampled_from(COUNTRIES))
    digits = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=length, max_size=length)))
    return _iban(country, digits)


def _future_date(offset: int) -> str:
    return (datetime.date.today() + datetime.timedelta(days=offset)).isoformat()


schemathesis.openapi.format("iban", ibans())
schemathesis.openapi.format("date", st.one_of(st.integers(min_value=1, max_value=3650).map(_future_date), st.just("9999-12-31")))

REDIRECT_URI = os.environ.get("ASSENT_CONFORMANCE_REDIRECT_URI", "")


@schemathesis.hook
def map_headers(ctx, headers):
    if headers and "TPP-Redirect-URI" in headers and REDIRECT_URI:
        headers["TPP-Redirect-URI"] = REDIRECT_URI
    return headers



def _origin(url: str) -> str:
    parts = url.split("/")
    return "/".join(parts[:3])


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    # The coverage phase takes header values from the description's enum (every TPP's registered URIs) without
    # map_headers: a URI registered for another TPP of this server becomes the calling TPP's own. Values that
    # are not one of this server's URIs (the negative cases) are left as generated.
    headers = case.headers or {}
    value = headers.get("TPP-Redirect-URI")
    if REDIRECT_URI and isinstance(value, str) and value != REDIRECT_URI and _origin(value) == _origin(REDIRECT_URI):
        headers["TPP-Redirect-URI"] = REDIRECT_URI
