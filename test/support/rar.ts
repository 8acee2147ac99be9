/** A TPP's Rich Authorization Request (RFC 9396): an account_information detail, pushed with PAR. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { clientAuth, pkce, postForm, type TestClient, type TestServer } from './assent.ts';
import { ALICE, inDays, type StartedFlow } from './tpp.ts';

const salary = { iban: ALICE.salary.iban, currency: 'SEK' };
const savings = { iban: ALICE.savings.iban, currency: 'SEK' };

/** Alice's salary and savings accounts, balances and transactions on the salary account */
export const accountInformation = (extra: Record<string, unknown> = {}) => ({
  type: 'account_information',
  access: { accounts: [salary, savings], balances: [salary], transactions: [salary] },
  recurringIndicator: true,
  validUntil: inDays(30),
  frequencyPerDay: 4,
  combinedServiceIndicator: false,
  ...extra,
});

/** PAR with `authorization_details` (a string is sent as is); the answer and the PKCE verifier */
export async function pushDetails(server: TestServer, tpp: TestClient, details: unknown, extra: Record<string, string> = {}) {
  const { verifier, challenge } = await pkce();
  const state = randomUUID();
  const auth = await clientAuth(tpp, server.issuer);
  const res = await postForm(
    `${server.issuer}/par`,
    {
      client_id: tpp.clientId,
      response_type: 'code',
      scope: 'openid offline_access accountinformation',
      prompt: 'consent',
      redirect_uri: tpp.redirectUri,
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      authorization_details: typeof details === 'string' ? details : JSON.stringify(details),
      ...extra,
      ...auth.form,
    },
    auth.headers,
  );
  return { res, verifier, state };
}

/** A flow started with PAR carrying the details, in the shape the browser helpers take (no consent id yet). */
export async function rarFlow(server: TestServer, tpp: TestClient, details: unknown, extra: Record<string, string> = {}): Promise<StartedFlow> {
  const { res, verifier, state } = await pushDetails(server, tpp, details, extra);
  assert.equal(res.status, 201, res.text);
  const link = new URL(`${server.issuer}/authorize`);
  link.searchParams.set('client_id', tpp.clientId);
  link.searchParams.set('request_uri', res.json.request_uri as string);
  return { consentId: '', authorisationId: '', link, state, verifier, ccToken: '' };
}
