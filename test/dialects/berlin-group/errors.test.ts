/**
 * The error catalogue and the pure pieces around it: every code is one the Open Payments spec lists for its
 * status, every domain / token / validation error maps to the intended {status, code}, and every rendered
 * body conforms to the spec. Also the dialect's body mapping and the presenters' links.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import {
  AuthorisationNotFound,
  AuthorisationStateConflict,
  ConsentAlreadyExists,
  ConsentExpired,
  ConsentNotFound,
  ConsentStateConflict,
  ConsentValidationError,
} from '../../../src/consent/errors.ts';
import type { Authorisation, Consent } from '../../../src/consent/types.ts';
import { TokenError } from '../../../src/oidc/oauth.ts';
import {
  AIS_MESSAGE_CODES,
  BG_ERRORS,
  BgError,
  formatError,
  renderError,
  renderInternalError,
  type BgErrorName,
} from '../../../src/dialects/berlin-group/errors.ts';
import { consentBodyToDomain, createConsentHeadersSchema, HEADER_NAMES, mergeIssues, zodIssues } from '../../../src/dialects/berlin-group/schemas.ts';
import { authenticationMethodSelected, consentInformation, presentAccess, scaOAuthHref } from '../../../src/dialects/berlin-group/presenters.ts';
import { validateResponse, validateSchema } from '../../support/openapi.ts';
import { OPEN_PAYMENTS_SPEC } from './helpers.ts';

const spec = parse(readFileSync(OPEN_PAYMENTS_SPEC, 'utf8')) as { components: { schemas: Record<string, { enum?: string[] }> } };

/** A consent path and method whose spec answers include `status` (429 is declared on POST /consents too). */
function conforms(status: number, body: unknown): void {
  validateResponse(OPEN_PAYMENTS_SPEC, '/psd2/consent/v1/consents/some-id/authorisations', 'POST', status, body ?? '');
}

describe('the catalogue', () => {
  test('AIS_MESSAGE_CODES are the spec’s MessageCode<status>_AIS enums', () => {
    for (const [status, codes] of Object.entries(AIS_MESSAGE_CODES)) {
      assert.deepEqual([...codes], spec.components.schemas[`MessageCode${status}_AIS`]?.enum, `MessageCode${status}_AIS`);
    }
  });

  test('every entry uses a code its status allows (INTERNAL_SERVER_ERROR aside), and its body conforms', () => {
    for (const [name, entry] of Object.entries(BG_ERRORS) as Array<[BgErrorName, (typeof BG_ERRORS)[BgErrorName]]>) {
      const rendered = renderError(new BgError(name))!;
      assert.equal(rendered.status, entry.status);
      if (!('code' in entry)) {
        assert.equal(rendered.body, undefined, `${name} has no body`);
      } else if (entry.code !== 'INTERNAL_SERVER_ERROR') {
        const allowed = AIS_MESSAGE_CODES[entry.status as keyof typeof AIS_MESSAGE_CODES] as readonly string[];
        assert.ok(allowed.includes(entry.code), `${name}: ${entry.code} is not a ${entry.status} AIS code`);
      }
      if (name !== 'internal') conforms(rendered.status, rendered.body);
    }
  });
});

describe('renderError', () => {
  const cases: Array<[string, unknown, number, string | undefined]> = [
    ['ConsentNotFound', new ConsentNotFound('c1'), 403, 'CONSENT_UNKNOWN'],
    ['AuthorisationNotFound', new AuthorisationNotFound('c1', 'a1'), 403, 'RESOURCE_UNKNOWN'],
    ['ConsentExpired', new ConsentExpired('c1', 'received', 'startAuthorisation', new Date(0)), 401, 'CONSENT_EXPIRED'],
    ['ConsentStateConflict', new ConsentStateConflict('c1', 'rejected', 'startAuthorisation'), 409, 'STATUS_INVALID'],
    ['a lost race', new ConsentStateConflict('c1', 'received', 'update', { lostRace: true }), 409, 'STATUS_INVALID'],
    ['AuthorisationStateConflict', new AuthorisationStateConflict('c1', 'received', 'a1', 'scaMethodSelected', 'selectScaMethod'), 409, 'STATUS_INVALID'],
    ['ConsentValidationError', new ConsentValidationError([{ path: 'validUntil', code: 'invalid_format', message: 'must be a date' }]), 400, 'FORMAT_ERROR'],
    ['TokenError missing', new TokenError('missing', 'm'), 401, 'TOKEN_INVALID'],
    ['TokenError invalid', new TokenError('invalid', 'm'), 401, 'TOKEN_INVALID'],
    ['TokenError expired', new TokenError('expired', 'm'), 401, 'TOKEN_EXPIRED'],
    ['TokenError insufficient_scope', new TokenError('insufficient_scope', 'm'), 403, 'SERVICE_BLOCKED'],
    ['TokenError invalid_dpop_proof', new TokenError('invalid_dpop_proof', 'm'), 401, 'TOKEN_INVALID'],
    ['BgError unsupportedMediaType', new BgError('unsupportedMediaType'), 415, undefined],
    ['BgError accessExceeded', new BgError('accessExceeded'), 429, 'ACCESS_EXCEEDED'],
    ['BgError methodNotAllowed', new BgError('methodNotAllowed'), 405, 'SERVICE_INVALID'],
    ['BgError scaMethodUnknown', new BgError('scaMethodUnknown'), 400, 'SCA_METHOD_UNKNOWN'],
  ];
  for (const [name, error, status, code] of cases) {
    test(`${name} → ${status} ${code ?? '(no body)'}`, () => {
      const rendered = renderError(error);
      assert.ok(rendered);
      assert.equal(rendered.status, status);
      if (code) {
        assert.ok(rendered.body!.tppMessages.length > 0);
        for (const m of rendered.body!.tppMessages) {
          assert.equal(m.code, code);
          assert.equal(m.category, 'ERROR');
        }
      } else {
        assert.equal(rendered.body, undefined);
      }
      conforms(rendered.status, rendered.body);
    });
  }

  test('errors it does not know are left to the caller (500)', () => {
    assert.equal(renderError(new Error('boom')), undefined);
    assert.equal(renderError(new ConsentAlreadyExists('c1')), undefined);
    assert.equal(renderError('a string'), undefined);
    assert.deepEqual(renderInternalError(), {
      status: 500,
      body: { tppMessages: [{ category: 'ERROR', code: 'INTERNAL_SERVER_ERROR', text: 'an unexpected error occurred' }] },
      headers: {},
    });
  });

  test('unknown consents render the same whatever the id (no id in the text)', () => {
    assert.deepEqual(renderError(new ConsentNotFound('mine')), renderError(new ConsentNotFound('yours')));
    assert.deepEqual(renderError(new AuthorisationNotFound('c', 'a')), renderError(new AuthorisationNotFound('d', 'b')));
  });

  test('validation issues become one FORMAT_ERROR each, path set (none for the body itself)', () => {
    const rendered = renderError(
      new ConsentValidationError([
        { path: 'access.balances[0].iban', code: 'invalid_format', message: 'bad checksum' },
        { path: 'frequencyPerDay', code: 'invalid_value', message: 'must be at least 1' },
        { path: '', code: 'invalid_type', message: 'must be an object' },
      ]),
    )!;
    assert.deepEqual(rendered.body!.tppMessages, [
      { category: 'ERROR', code: 'FORMAT_ERROR', path: 'access.balances[0].iban', text: 'bad checksum' },
      { category: 'ERROR', code: 'FORMAT_ERROR', path: 'frequencyPerDay', text: 'must be at least 1' },
      { category: 'ERROR', code: 'FORMAT_ERROR', text: 'must be an object' },
    ]);
  });

  test('token errors carry a WWW-Authenticate challenge', () => {
    assert.equal(renderError(new TokenError('missing', 'm'))!.headers['WWW-Authenticate'], 'Bearer realm="psd2"');
    assert.equal(renderError(new TokenError('insufficient_scope', 'm'))!.headers['WWW-Authenticate'], 'Bearer realm="psd2", error="insufficient_scope"');
  });

  test('texts are cut to 500 characters (1.3.11’s limit; Open Payments 1.3.3 allows 512)', () => {
    const rendered = renderError(formatError('x', 'y'.repeat(600)))!;
    assert.equal(rendered.body!.tppMessages[0]!.text!.length, 500);
    conforms(400, rendered.body);
    assert.deepEqual(validateSchema(new URL('../../../../shared/specs/psd2-api_v1.3.11-2021-10-01v1.yaml', import.meta.url), 'tppMessage400_AIS', rendered.body!.tppMessages[0]), []);
  });
});

describe('the dialect’s request mapping', () => {
  test('header issues are named as the spec spells the headers', () => {
    const headers = { 'psu-ip-address': '1.2.3.999', 'x-bicfi': 'nope', 'tpp-redirect-uri': 'ftp://x', 'psu-id': '' };
    const parsed = createConsentHeadersSchema.safeParse(headers);
    assert.equal(parsed.success, false);
    const paths = zodIssues(parsed.error!, headers, HEADER_NAMES).map((i) => i.path).sort();
    assert.deepEqual(paths, ['PSU-ID', 'PSU-IP-Address', 'TPP-Redirect-URI', 'X-BicFi']);
  });

  test('unknown keys and missing fields are told apart', () => {
    const schema = z.strictObject({ a: z.string() });
    const issues = zodIssues(schema.safeParse({ b: 1 }).error!, { b: 1 });
    assert.deepEqual(
      issues.map((i) => [i.path, i.code]),
      [
        ['a', 'required'],
        ['b', 'unknown_field'],
      ],
    );
  });

  test('Open Payments global access values map to the domain and back', () => {
    const mapped = consentBodyToDomain({ access: { availableAccounts: 'allAccountsWithBalances' }, x: 1 });
    assert.deepEqual(mapped, { body: { access: { availableAccountsWithBalance: 'allAccounts' }, x: 1 }, issues: [] });
    assert.deepEqual(presentAccess({ availableAccountsWithBalance: 'allAccounts' }), { availableAccounts: 'allAccountsWithBalances' });
    assert.deepEqual(presentAccess({ allPsd2: 'allAccounts' }), { allPsd2: 'allAccounts' });
    assert.deepEqual(consentBodyToDomain({ access: { allPsd2: 'allAccounts' } }).issues, []);
    assert.deepEqual(
      consentBodyToDomain({ access: { allPsd2: 'allAccountsWithOwnerName', availableAccountsWithBalance: 'allAccounts' } }).issues.map((i) => i.path),
      ['access.availableAccountsWithBalance', 'access.allPsd2'],
    );
    assert.deepEqual(consentBodyToDomain('not an object'), { body: 'not an object', issues: [] });
  });

  test('mergeIssues keeps the dialect’s issue for a path both report', () => {
    const merged = mergeIssues(
      [{ path: 'a', code: 'invalid_value', message: 'dialect' }],
      [
        { path: 'a', code: 'invalid_value', message: 'domain' },
        { path: 'b', code: 'required', message: 'domain' },
      ],
    );
    assert.deepEqual(
      merged.map((i) => [i.path, i.message]),
      [
        ['a', 'dialect'],
        ['b', 'domain'],
      ],
    );
  });
});

describe('presenters', () => {
  const consent = {
    id: 'c-1',
    access: { accounts: [{ iban: 'DE89370400440532013000', currency: 'EUR' }] },
    recurringIndicator: true,
    validUntil: '2030-01-01',
    frequencyPerDay: 4,
    lastActionDate: '2029-12-01',
    status: 'received',
    details: { tppRedirectUri: 'https://tpp.example/cb?x=1' },
  } as unknown as Consent;
  const authorisation = { id: 'a-1', scaStatus: 'scaMethodSelected' } as Authorisation;

  test('the scaOAuth link is the authorization request the walk-through describes', () => {
    const href = scaOAuthHref('https://bank.example/connect/', 'tpp-1', consent, authorisation);
    assert.equal(
      href,
      'https://bank.example/connect/authorize?client_id=tpp-1&response_type=code&scope=openid%20offline_access%20accountinformation' +
        '&acr_values=consentId:c-1%20consentAuthorisationId:a-1&prompt=consent&redirect_uri=https://tpp.example/cb%3Fx%3D1',
    );
    // a one-off consent gets no refresh token
    const once = new URL(scaOAuthHref('https://bank.example/connect', 'tpp-1', { ...consent, recurringIndicator: false }, authorisation));
    assert.equal(once.searchParams.get('scope'), 'openid accountinformation');
    assert.equal(once.searchParams.get('prompt'), null);
    const url = new URL(href);
    assert.equal(url.searchParams.get('redirect_uri'), 'https://tpp.example/cb?x=1');
    assert.equal(url.searchParams.get('acr_values'), 'consentId:c-1 consentAuthorisationId:a-1');
    const without = scaOAuthHref('https://bank.example/connect', 'tpp 1', { ...consent, details: {} }, authorisation);
    assert.equal(new URL(without).searchParams.get('redirect_uri'), null);
    assert.equal(new URL(without).searchParams.get('client_id'), 'tpp 1');
  });

  test('bodies conform to the spec', () => {
    validateResponse(OPEN_PAYMENTS_SPEC, '/psd2/consent/v1/consents/c-1', 'GET', 200, consentInformation(consent));
    const selected = authenticationMethodSelected(consent, authorisation, { authenticationType: 'PUSH_OTP', authenticationMethodId: 'push-otp' }, 'https://x/authorize');
    validateResponse(OPEN_PAYMENTS_SPEC, '/psd2/consent/v1/consents/c-1/authorisations/a-1', 'PUT', 200, selected);
    assert.equal(selected.psuMessage, 'Please confirm with your bank.');
  });
});
