import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidCnpj, isValidCpf } from '../../src/consent/br-documents.ts';
import { BR_DATA_GROUPS, BR_PERMISSIONS, scopesOf } from '../../src/consent/br-permissions.ts';
import { validateBrDataSharingRequest, validateBrExtension } from '../../src/consent/br-validation.ts';

const NOW = new Date('2026-03-01T12:00:00Z');
const CPF = '52998224725';
const CNPJ = '11222333000181';
const PF = { document: { identification: CPF, rel: 'CPF' } };
const PJ = { document: { identification: CNPJ, rel: 'CNPJ' } };
const BALANCES = ['ACCOUNTS_READ', 'ACCOUNTS_BALANCES_READ', 'RESOURCES_READ'];
const group = (id: string) => [...BR_DATA_GROUPS.find((g) => g.id === id)!.permissions];

type Expect = 'ok' | `400 ${string}` | `422 ${string}`;
const cases: Array<[string, Record<string, unknown>, Expect]> = [
  ['one whole group', { loggedUser: PF, permissions: BALANCES, expirationDateTime: '2026-06-01T00:00:00Z' }, 'ok'],
  ['several groups sharing ACCOUNTS_READ', { loggedUser: PF, permissions: [...new Set([...BALANCES, ...group('accounts-transactions'), ...group('accounts-limits')])] }, 'ok'],
  ['every personal group', { loggedUser: PF, permissions: [...new Set(BR_DATA_GROUPS.filter((g) => g.holder !== 'PJ').flatMap((g) => g.permissions))] }, 'ok'],
  ['every business group with businessEntity', { loggedUser: PF, businessEntity: PJ, permissions: [...new Set(BR_DATA_GROUPS.filter((g) => g.holder !== 'PF').flatMap((g) => g.permissions))] }, 'ok'],
  ['credit operations whole', { loggedUser: PF, permissions: group('credit-operations') }, 'ok'],
  ['investments whole', { loggedUser: PF, permissions: group('investments') }, 'ok'],
  ['exchanges', { loggedUser: PF, permissions: group('exchanges') }, 'ok'],
  ['credit card bills whole', { loggedUser: PF, permissions: group('credit-cards-bills') }, 'ok'],
  ['no expiry: indefinite', { loggedUser: PF, permissions: BALANCES }, 'ok'],
  ['expiry exactly 12 months ahead', { loggedUser: PF, permissions: BALANCES, expirationDateTime: '2027-03-01T12:00:00Z' }, 'ok'],
  ['business group with a personal-only CPF is fine for accounts', { loggedUser: PF, businessEntity: PJ, permissions: BALANCES }, 'ok'],
  ['a group without RESOURCES_READ', { loggedUser: PF, permissions: ['ACCOUNTS_READ', 'ACCOUNTS_BALANCES_READ'] }, '422 COMBINACAO_PERMISSOES_INCORRETA'],
  ['half a group', { loggedUser: PF, permissions: ['ACCOUNTS_BALANCES_READ', 'RESOURCES_READ'] }, '422 COMBINACAO_PERMISSOES_INCORRETA'],
  ['only RESOURCES_READ', { loggedUser: PF, permissions: ['RESOURCES_READ'] }, '422 COMBINACAO_PERMISSOES_INCORRETA'],
  ['credit operations missing one', { loggedUser: PF, permissions: group('credit-operations').filter((p) => p !== 'LOANS_PAYMENTS_READ') }, '422 COMBINACAO_PERMISSOES_INCORRETA'],
  ['bills without bill transactions', { loggedUser: PF, permissions: ['CREDIT_CARDS_ACCOUNTS_READ', 'CREDIT_CARDS_ACCOUNTS_BILLS_READ', 'RESOURCES_READ'] }, '422 COMBINACAO_PERMISSOES_INCORRETA'],
  ['personal and business together', { loggedUser: PF, businessEntity: PJ, permissions: ['CUSTOMERS_PERSONAL_IDENTIFICATIONS_READ', 'CUSTOMERS_BUSINESS_IDENTIFICATIONS_READ', 'RESOURCES_READ'] }, '422 PERMISSAO_PF_PJ_EM_CONJUNTO'],
  ['business without businessEntity', { loggedUser: PF, permissions: group('customers-business-identifications') }, '422 INFORMACOES_PJ_NAO_INFORMADAS'],
  ['expiry in the past', { loggedUser: PF, permissions: BALANCES, expirationDateTime: '2026-02-28T12:00:00Z' }, '422 DATA_EXPIRACAO_INVALIDA'],
  ['expiry now', { loggedUser: PF, permissions: BALANCES, expirationDateTime: '2026-03-01T12:00:00Z' }, '422 DATA_EXPIRACAO_INVALIDA'],
  ['expiry beyond 12 months', { loggedUser: PF, permissions: BALANCES, expirationDateTime: '2027-03-01T12:00:01Z' }, '422 DATA_EXPIRACAO_INVALIDA'],
  ['expiry not in UTC', { loggedUser: PF, permissions: BALANCES, expirationDateTime: '2026-06-01T00:00:00-03:00' }, '400 data.expirationDateTime'],
  ['expiry not a real date', { loggedUser: PF, permissions: BALANCES, expirationDateTime: '2026-02-31T00:00:00Z' }, '400 data.expirationDateTime'],
  ['CPF with a wrong check digit', { loggedUser: { document: { identification: '52998224724', rel: 'CPF' } }, permissions: BALANCES }, '400 data.loggedUser.document.identification'],
  ['CPF of one repeated digit', { loggedUser: { document: { identification: '11111111111', rel: 'CPF' } }, permissions: BALANCES }, '400 data.loggedUser.document.identification'],
  ['CPF with punctuation', { loggedUser: { document: { identification: '529.982.247-25', rel: 'CPF' } }, permissions: BALANCES }, '400 data.loggedUser.document.identification'],
  ['rel not CPF', { loggedUser: { document: { identification: CPF, rel: 'RG' } }, permissions: BALANCES }, '400 data.loggedUser.document.rel'],
  ['CNPJ with a wrong check digit', { loggedUser: PF, businessEntity: { document: { identification: '11222333000182', rel: 'CNPJ' } }, permissions: BALANCES }, '400 data.businessEntity.document.identification'],
  ['no loggedUser', { permissions: BALANCES }, '400 data.loggedUser'],
  ['unknown permission', { loggedUser: PF, permissions: [...BALANCES, 'PAYMENTS_INITIATE'] }, '400 data.permissions[3]'],
  ['repeated permission', { loggedUser: PF, permissions: [...BALANCES, 'ACCOUNTS_READ'] }, '400 data.permissions'],
  ['empty permissions', { loggedUser: PF, permissions: [] }, '400 data.permissions'],
  ['unknown field', { loggedUser: PF, permissions: BALANCES, purpose: 'x' }, '400 data.purpose'],
];

describe('Open Finance Brasil consent request: permission / CPF / date table', () => {
  for (const [name, data, expected] of cases) {
    it(`${name} → ${expected}`, () => {
      const result = validateBrDataSharingRequest({ data }, { now: NOW });
      if (expected === 'ok') {
        assert.ok(result.ok, JSON.stringify(result));
        return;
      }
      assert.equal(result.ok, false);
      const [status, detail] = expected.split(' ');
      if (status === '422') {
        assert.ok('rule' in result, JSON.stringify(result));
        assert.equal(result.rule.code, detail);
      } else {
        assert.ok('issues' in result, JSON.stringify(result));
        assert.ok(result.issues.some((i) => i.path === detail), `${detail} in ${JSON.stringify(result.issues)}`);
      }
    });
  }

  it('refuses a body without data, and fields beside data', () => {
    assert.equal(validateBrDataSharingRequest({}, { now: NOW }).ok, false);
    assert.equal(validateBrDataSharingRequest({ data: { loggedUser: PF, permissions: BALANCES }, x: 1 }, { now: NOW }).ok, false);
  });

  it('normalises: the expiry as a Date', () => {
    const result = validateBrDataSharingRequest({ data: { loggedUser: PF, permissions: BALANCES, expirationDateTime: '2026-06-01T00:00:00Z' } }, { now: NOW });
    assert.ok(result.ok);
    assert.deepEqual(result.value.expirationDateTime, new Date('2026-06-01T00:00:00Z'));
  });
});

describe('extension requests', () => {
  it('needs a later expiry within 12 months', () => {
    const current = new Date('2026-04-01T00:00:00Z');
    const ok = validateBrExtension({ data: { loggedUser: PF, expirationDateTime: '2026-09-01T00:00:00Z' } }, { now: NOW, currentExpiry: current });
    assert.ok(ok.ok);
    const earlier = validateBrExtension({ data: { loggedUser: PF, expirationDateTime: '2026-03-15T00:00:00Z' } }, { now: NOW, currentExpiry: current });
    assert.ok(!earlier.ok && 'rule' in earlier && earlier.rule.code === 'DATA_EXPIRACAO_INVALIDA');
    const tooLate = validateBrExtension({ data: { loggedUser: PF, expirationDateTime: '2028-01-01T00:00:00Z' } }, { now: NOW, currentExpiry: current });
    assert.ok(!tooLate.ok && 'rule' in tooLate && tooLate.rule.code === 'DATA_EXPIRACAO_INVALIDA');
  });
});

describe('documents and catalogue', () => {
  it('checks CPF and CNPJ (numeric and alphanumeric) check digits', () => {
    for (const cpf of ['52998224725', '12345678909', '11144477735']) assert.ok(isValidCpf(cpf), cpf);
    for (const cpf of ['52998224726', '00000000000', '1234567890']) assert.ok(!isValidCpf(cpf), cpf);
    for (const cnpj of ['11222333000181', '12ABC34501DE35']) assert.ok(isValidCnpj(cnpj), cnpj);
    for (const cnpj of ['11222333000180', '12ABC34501DE36', '00000000000000']) assert.ok(!isValidCnpj(cnpj), cnpj);
  });
  it('every permission belongs to a group, and every group carries RESOURCES_READ', () => {
    const grouped = new Set(BR_DATA_GROUPS.flatMap((g) => g.permissions));
    assert.deepEqual(BR_PERMISSIONS.filter((p) => !grouped.has(p)), []);
    for (const g of BR_DATA_GROUPS) assert.ok(g.permissions.includes('RESOURCES_READ'), g.id);
    assert.equal(BR_PERMISSIONS.length, 36);
  });
  it('derives the resource scopes from the permissions', () => {
    assert.deepEqual(scopesOf(BALANCES), ['accounts', 'resources']);
  });
});
