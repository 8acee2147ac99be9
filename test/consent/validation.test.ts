import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCalendarDate } from '../../src/consent/dates.ts';
import { ConsentValidationError } from '../../src/consent/errors.ts';
import { formatIban, ibanProblem, isValidIban, normaliseIban } from '../../src/consent/iban.ts';
import {
  jsonPath,
  parseAccountConsentRequest,
  validateAccountConsentRequest,
  type ConsentRequestOptions,
} from '../../src/consent/validation.ts';

const NOW = new Date('2025-03-10T10:00:00.000Z');
const OPTIONS: ConsentRequestOptions = { now: NOW, maxValidityDays: 180 };
/** NOW + 180 days */
const CAP = '2025-09-06';

const DE = 'DE89370400440532013000';
const GB = 'GB29NWBK60161331926819';

function body(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    access: {
      accounts: [{ iban: DE, currency: 'EUR' }, { iban: GB, currency: 'GBP' }],
      balances: [{ iban: DE, currency: 'EUR' }],
      transactions: [{ iban: DE, currency: 'EUR' }],
    },
    recurringIndicator: true,
    validUntil: '2025-06-01',
    frequencyPerDay: 4,
    combinedServiceIndicator: false,
    ...overrides,
  };
}

function issuesOf(input: unknown, options: ConsentRequestOptions = OPTIONS) {
  const result = validateAccountConsentRequest(input, options);
  assert.equal(result.ok, false, 'expected the body to be refused');
  return result.ok ? [] : result.error.issues;
}

describe('account consent request: accepted bodies', () => {
  const cases: Array<[string, unknown, Record<string, unknown>, ConsentRequestOptions?]> = [
    ['accounts, balances and transactions', body(), {}],
    ['balances only (account access is implied)', body({ access: { balances: [{ iban: DE }] } }), {}],
    ['transactions only', body({ access: { transactions: [{ iban: DE, currency: 'EUR' }] } }), {}],
    ['availableAccounts', body({ access: { availableAccounts: 'allAccounts' } }), {}],
    ['availableAccountsWithBalance with owner name', body({ access: { availableAccountsWithBalance: 'allAccountsWithOwnerName' } }), {}],
    ['allPsd2', body({ access: { allPsd2: 'allAccounts' } }), {}],
    ['every kind of account reference', body({
      access: { accounts: [{ bban: 'BARC12345612345678' }, { pan: '5409050000000000' }, { maskedPan: '123456xxxxxx1234' }, { msisdn: '+49 170 1234567' }] },
    }), {}],
    ['an account without currency covers its sub-accounts', body({
      access: { accounts: [{ iban: DE }], balances: [{ iban: DE, currency: 'EUR' }, { iban: DE, currency: 'USD' }] },
    }), {}],
    ['balances of an account not under accounts (it gets account access too, as Berlin Group says)', body({
      access: { accounts: [{ iban: DE }], balances: [{ iban: GB }] },
    }), {}],
    ['validUntil today', body({ validUntil: '2025-03-10' }), { validUntil: '2025-03-10' }],
    ['validUntil on the cap', body({ validUntil: CAP }), { validUntil: CAP }],
    ['validUntil past the cap is cut to it', body({ validUntil: '2026-01-01' }), { validUntil: CAP }],
    ['9999-12-31 means the longest validity', body({ validUntil: '9999-12-31' }), { validUntil: CAP }],
    ['a leap day', body({ validUntil: '2028-02-29' }), { validUntil: '2028-02-29' }, { now: NOW, maxValidityDays: 2000 }],
    ['a one-off consent is read once a day', body({ recurringIndicator: false, frequencyPerDay: 4 }), { frequencyPerDay: 1 }],
    ['a recurring consent keeps its frequency', body({ frequencyPerDay: 4 }), { frequencyPerDay: 4 }],
    ['the frequency limit, when set, allows up to it', body({ frequencyPerDay: 4 }), { frequencyPerDay: 4 }, { ...OPTIONS, maxFrequencyPerDay: 4 }],
    ['a one-off consent is not held to the frequency limit', body({ recurringIndicator: false, frequencyPerDay: 9 }), { frequencyPerDay: 1 }, { ...OPTIONS, maxFrequencyPerDay: 4 }],
    ['bank-offered consent when enabled', body({ access: { accounts: [], balances: [], transactions: [] } }), {}, { ...OPTIONS, allowBankOffered: true }],
    ['combinedServiceIndicator true', body({ combinedServiceIndicator: true }), { combinedServiceIndicator: true }],
  ];
  for (const [label, input, expected, options] of cases) {
    it(label, () => {
      const result = validateAccountConsentRequest(input, options ?? OPTIONS);
      assert.ok(result.ok, result.ok ? '' : result.error.message);
      for (const [key, value] of Object.entries(expected)) {
        assert.deepEqual((result.value as unknown as Record<string, unknown>)[key], value, key);
      }
    });
  }

  it('returns the access as given, with IBANs in electronic format', () => {
    const result = validateAccountConsentRequest(
      body({ access: { accounts: [{ iban: 'de89 3704 0044 0532 0130 00' }], balances: [{ iban: DE, currency: 'EUR' }] } }),
      OPTIONS,
    );
    assert.ok(result.ok);
    assert.deepEqual(result.value, {
      access: { accounts: [{ iban: DE }], balances: [{ iban: DE, currency: 'EUR' }] },
      recurringIndicator: true,
      validUntil: '2025-06-01',
      frequencyPerDay: 4,
      combinedServiceIndicator: false,
    });
  });

  it('parseAccountConsentRequest returns the value or throws the validation error', () => {
    assert.equal(parseAccountConsentRequest(body(), OPTIONS).validUntil, '2025-06-01');
    assert.throws(() => parseAccountConsentRequest({}, OPTIONS), ConsentValidationError);
  });
});

describe('account consent request: refused bodies', () => {
  const ref = (extra: Record<string, unknown>) => body({ access: { accounts: [extra] } });
  const cases: Array<[string, unknown, string[], ConsentRequestOptions?]> = [
    ['no body', undefined, ['']],
    ['null body', null, ['']],
    ['an array', [body()], ['']],
    ['a string', 'consent please', ['']],
    ['an empty object', {}, ['access', 'combinedServiceIndicator', 'frequencyPerDay', 'recurringIndicator', 'validUntil']],
    ['missing access', body({ access: undefined }), ['access']],
    ['missing combinedServiceIndicator', body({ combinedServiceIndicator: undefined }), ['combinedServiceIndicator']],
    ['an unknown top-level field', body({ psuId: 'me' }), ['psuId']],
    ['two unknown fields', body({ a: 1, b: 2 }), ['a', 'b']],
    ['an unknown access field', body({ access: { accounts: [{ iban: DE }], cards: [] } }), ['access.cards']],
    ['an unknown account reference field', ref({ iban: DE, sortCode: '8327' }), ['access.accounts[0].sortCode']],
    ['a clearingNumber that is not 1 to 5 digits', ref({ iban: DE, clearingNumber: '832711' }), ['access.accounts[0].clearingNumber']],
    ['access not an object', body({ access: 'all' }), ['access']],
    ['accounts not a list', body({ access: { accounts: { iban: DE } } }), ['access.accounts']],
    ['recurringIndicator as a string', body({ recurringIndicator: 'true' }), ['recurringIndicator']],
    ['combinedServiceIndicator as a number', body({ combinedServiceIndicator: 0 }), ['combinedServiceIndicator']],
    ['frequencyPerDay 0', body({ frequencyPerDay: 0 }), ['frequencyPerDay']],
    ['frequencyPerDay negative', body({ frequencyPerDay: -4 }), ['frequencyPerDay']],
    ['frequencyPerDay not whole', body({ frequencyPerDay: 1.5 }), ['frequencyPerDay']],
    ['frequencyPerDay as a string', body({ frequencyPerDay: '4' }), ['frequencyPerDay']],
    ['frequencyPerDay above the limit', body({ frequencyPerDay: 5 }), ['frequencyPerDay'], { ...OPTIONS, maxFrequencyPerDay: 4 }],
    ['validUntil 2023-02-30 (no such day)', body({ validUntil: '2023-02-30' }), ['validUntil']],
    ['validUntil 2025-02-29 (not a leap year)', body({ validUntil: '2025-02-29' }), ['validUntil']],
    ['validUntil month 13', body({ validUntil: '2025-13-01' }), ['validUntil']],
    ['validUntil in another format', body({ validUntil: '01/06/2025' }), ['validUntil']],
    ['validUntil with a time', body({ validUntil: '2025-06-01T00:00:00Z' }), ['validUntil']],
    ['validUntil yesterday', body({ validUntil: '2025-03-09' }), ['validUntil']],
    ['an empty access', body({ access: {} }), ['access']],
    ['an IBAN with wrong check digits', ref({ iban: 'DE89370400440532013001' }), ['access.accounts[0].iban']],
    ['an IBAN too short for its country', ref({ iban: 'DE8937040044053201300' }), ['access.accounts[0].iban']],
    ['an IBAN of no country', ref({ iban: 'XX89370400440532013000' }), ['access.accounts[0].iban']],
    ['not an IBAN at all', ref({ iban: 'hello' }), ['access.accounts[0].iban']],
    ['a lower-case currency', ref({ iban: DE, currency: 'eur' }), ['access.accounts[0].currency']],
    ['a made-up currency', ref({ iban: DE, currency: 'ABC' }), ['access.accounts[0].currency']],
    ['a BBAN with punctuation', ref({ bban: 'BARC-1234' }), ['access.accounts[0].bban']],
    ['a PAN longer than 35', ref({ pan: '1'.repeat(36) }), ['access.accounts[0].pan']],
    ['an empty MSISDN', ref({ msisdn: '' }), ['access.accounts[0].msisdn']],
    ['a reference with two identifiers', ref({ iban: DE, bban: 'BARC12345612345678' }), ['access.accounts[0]']],
    ['a reference with no identifier', ref({ currency: 'EUR' }), ['access.accounts[0]']],
    ['the same account twice', body({ access: { accounts: [{ iban: DE }, { iban: 'DE89 3704 0044 0532 0130 00' }] } }), ['access.accounts[1]']],
    ['account lists with allPsd2', body({ access: { accounts: [{ iban: DE }], allPsd2: 'allAccounts' } }), ['access.allPsd2']],
    ['account lists with availableAccounts', body({ access: { balances: [{ iban: DE }], availableAccounts: 'allAccounts' } }), ['access.availableAccounts']],
    ['two global forms', body({ access: { availableAccounts: 'allAccounts', allPsd2: 'allAccounts' } }), ['access.allPsd2']],
    ['an unknown global scope', body({ access: { allPsd2: 'everything' } }), ['access.allPsd2']],
    ['an empty accounts list (bank-offered not enabled)', body({ access: { accounts: [] } }), ['access.accounts']],
    ['an empty list next to named accounts', body({ access: { accounts: [], balances: [{ iban: DE }] } }), ['access.accounts'], { ...OPTIONS, allowBankOffered: true }],
    ['several bad fields at once', body({
      access: { accounts: [{ iban: 'DE00370400440532013000' }], balances: [{ iban: DE, currency: 'EURO' }] },
      frequencyPerDay: 0,
      extra: true,
    }), ['access.accounts[0].iban', 'access.balances[0].currency', 'extra', 'frequencyPerDay']],
  ];
  assert.ok(cases.length >= 25);
  for (const [label, input, paths, options] of cases) {
    it(label, () => {
      const issues = issuesOf(input, options);
      assert.deepEqual(issues.map((i) => i.path).sort(), [...paths].sort(), JSON.stringify(issues));
      for (const issue of issues) assert.ok(issue.message.length > 0);
    });
  }

  it('says which kind of problem each issue is', () => {
    const codes = (input: unknown) => issuesOf(input).map((i) => `${i.path}:${i.code}`);
    assert.deepEqual(codes(body({ access: undefined })), ['access:required']);
    assert.deepEqual(codes(body({ more: 1 })), ['more:unknown_field']);
    assert.deepEqual(codes(body({ recurringIndicator: 'yes' })), ['recurringIndicator:invalid_type']);
    assert.deepEqual(codes(body({ validUntil: '2023-02-30' })), ['validUntil:invalid_format']);
    assert.deepEqual(codes(body({ validUntil: '2020-01-01' })), ['validUntil:invalid_value']);
    assert.deepEqual(codes(body({ access: { allPsd2: 'x' } })), ['access.allPsd2:invalid_value']);
  });

  it('is a ConsentValidationError with a readable message', () => {
    const result = validateAccountConsentRequest(body({ frequencyPerDay: 0 }), OPTIONS);
    assert.ok(!result.ok);
    assert.ok(result.error instanceof ConsentValidationError);
    assert.equal(result.error.code, 'CONSENT_VALIDATION');
    assert.match(result.error.message, /^frequencyPerDay: /);
  });
});

describe('IBAN', () => {
  const valid = [
    'DE89370400440532013000',
    'GB29NWBK60161331926819',
    'FR1420041010050500013M02606',
    'NL91ABNA0417164300',
    'BE68539007547034',
    'NO9386011117947',
    'CH9300762011623852957',
    'ES9121000418450200051332',
    'IT60X0542811101000000123456',
    'AT611904300234573201',
    'PL61109010140000071219812874',
    'SE4550000000058398257466',
    'PT50000201231234567890154',
    'MT84MALT011000012345MTLCAST001S',
    'BR1800360305000010009795493C1',
  ];
  for (const iban of valid) {
    it(`accepts ${iban}`, () => {
      assert.equal(ibanProblem(iban), null);
      assert.ok(isValidIban(iban));
    });
  }

  const invalid: Array<[string, RegExp]> = [
    ['DE89370400440532013001', /check digits/],
    ['GB28NWBK60161331926819', /check digits/],
    ['NL91ABNA0417164301', /check digits/],
    ['DE893704004405320130', /22 characters/],
    ['NO93860111179470', /15 characters/],
    ['XX89370400440532013000', /unknown IBAN country/],
    ['DEAB370400440532013000', /two letters, two check digits/],
    ['DE89-3704-0044', /two letters, two check digits/],
    ['', /two letters, two check digits/],
  ];
  for (const [iban, problem] of invalid) {
    it(`refuses ${JSON.stringify(iban)}`, () => {
      assert.match(ibanProblem(iban) ?? '', problem);
      assert.equal(isValidIban(iban), false);
    });
  }

  it('reads the paper format', () => {
    assert.equal(normaliseIban(' de89 3704 0044 0532 0130 00 '), DE);
    assert.ok(isValidIban('de89 3704 0044 0532 0130 00'));
    assert.equal(formatIban(DE), 'DE89 3704 0044 0532 0130 00');
  });
});

describe('helpers', () => {
  it('knows real calendar dates', () => {
    for (const d of ['2024-02-29', '2000-02-29', '2025-12-31', '9999-12-31']) assert.ok(isCalendarDate(d), d);
    for (const d of ['2023-02-29', '1900-02-29', '2025-04-31', '2025-00-10', '2025-1-01', '20250101']) assert.ok(!isCalendarDate(d), d);
  });

  it('prints JSON paths', () => {
    assert.equal(jsonPath(['access', 'balances', 0, 'iban']), 'access.balances[0].iban');
    assert.equal(jsonPath([]), '');
  });
});
