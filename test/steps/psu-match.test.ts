/**
 * A consent the TPP requested for a named PSU (Berlin Group PSU-ID: the customer's login name at the
 * bank) can be decided by that customer only. Anyone else sees that it is not addressed to them and can
 * neither approve nor reject it; the TPP gets access_denied and the consent stays as it was.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeKeyClient, startTestServer, type TestClient, type TestServer } from '../support/assent.ts';
import { ALICE, CookieJar, accountsBody, decideWithoutBrowser, followRedirects, startFlow, type StartedFlow } from '../support/tpp.ts';

let server: TestServer;
let tpp: TestClient;

const BRUNO = { username: 'bruno', password: 'bruno-demo', everyday: { iban: 'DE62370400440532013001', currency: 'EUR' } };

before(async () => {
  tpp = await makeKeyClient('psu-tpp');
  server = await startTestServer({ clients: [tpp.config] });
});
after(() => server.stop());

const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)![1]!;

/** Logs Alice in on the flow's link; returns the jar and the page after login. */
async function aliceOpens(flow: StartedFlow): Promise<{ jar: CookieJar; res: Response; html: string }> {
  const jar = new CookieJar();
  let { res } = await followRedirects(server, jar, await jar.fetch(flow.link.href));
  let html = await res.text();
  const loginAction = /action="([^"]+\/login)"/.exec(html)![1]!;
  res = await jar.fetch(new URL(loginAction, server.url).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: ALICE.username, password: ALICE.password, csrf: csrfOf(html) }).toString(),
  });
  ({ res } = await followRedirects(server, jar, res));
  html = await res.text();
  return { jar, res, html };
}

test('PSU-ID names Alice: Alice can approve', async () => {
  const flow = await startFlow(server, tpp, accountsBody([ALICE.salary]), { 'psu-id': 'alice' });
  const back = await decideWithoutBrowser(server, flow, 'approve');
  assert.ok(back.searchParams.get('code'));
  const consent = await server.assent.consents.get(flow.consentId);
  assert.equal(consent?.status, 'valid');
  assert.equal(consent?.psuId, 'psu-alice');
});

test('PSU-ID names Bruno: Alice is told it is not for her, cannot decide it, the TPP gets access_denied, the consent is unchanged', async () => {
  const flow = await startFlow(server, tpp, accountsBody([BRUNO.everyday]), { 'psu-id': 'bruno' });
  const before = await server.assent.consents.get(flow.consentId);
  const { jar, res, html } = await aliceOpens(flow);
  assert.equal(res.status, 403);
  assert.match(html, /not for you/i);
  assert.doesNotMatch(html, /\/decision"/, 'the page offers a decision');
  assert.doesNotMatch(html, /name="decision"/);

  // a decision sent anyway (approve, then deny) changes nothing
  const uid = /\/interaction\/([^/]+)\/abort/.exec(html)![1]!;
  const forged = await jar.fetch(`${server.url}/interaction/${uid}/decision`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf: csrfOf(html), decision: 'approve', accounts: 'acc-bruno-main' }).toString(),
  });
  const { left } = await followRedirects(server, jar, forged);
  assert.ok(left, 'did not get back to the TPP');
  const back = new URL(left);
  assert.equal(back.searchParams.get('error'), 'access_denied');
  assert.equal(back.searchParams.get('code'), null);
  assert.equal(back.searchParams.get('state'), flow.state);

  const after = await server.assent.consents.get(flow.consentId);
  assert.equal(after?.status, 'received');
  assert.equal(after?.grantId, undefined);
  assert.equal(after?.psuId, undefined);
  assert.deepEqual(after?.history, before?.history);
  assert.deepEqual(after?.authorisations, before?.authorisations);
});

test('"Go back" on the not-for-you page: access_denied at the TPP, the consent unchanged, Bruno can still approve it', async () => {
  const flow = await startFlow(server, tpp, accountsBody([BRUNO.everyday]), { 'psu-id': 'bruno' });
  const { jar, html } = await aliceOpens(flow);
  const abort = /action="([^"]+\/abort)"/.exec(html)![1]!;
  const { left } = await followRedirects(
    server,
    jar,
    await jar.fetch(new URL(abort, server.url).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: csrfOf(html) }).toString(),
    }),
  );
  const back = new URL(left!);
  assert.equal(back.searchParams.get('error'), 'access_denied');
  assert.match(back.searchParams.get('error_description') ?? '', /another customer/);
  assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'received');

  // the customer it is addressed to authorises it through a new authorisation of the same consent
  const retry = await startFlowFor(flow);
  const approved = await decideWithoutBrowser(server, retry, 'approve', BRUNO);
  assert.ok(approved.searchParams.get('code'));
  const consent = await server.assent.consents.get(flow.consentId);
  assert.equal(consent?.status, 'valid');
  assert.equal(consent?.psuId, 'psu-bruno');
});

/** A second authorisation (and its scaOAuth link) of the flow's consent. */
async function startFlowFor(flow: StartedFlow): Promise<StartedFlow> {
  const { bg } = await import('../support/tpp.ts');
  const { pkce } = await import('../support/assent.ts');
  const started = await bg(server, flow.ccToken, 'POST', `/consents/${flow.consentId}/authorisations`);
  assert.equal(started.status, 201, JSON.stringify(started.body));
  const authorisationId = started.body.authorisationId as string;
  const selected = await bg(server, flow.ccToken, 'PUT', `/consents/${flow.consentId}/authorisations/${authorisationId}`, { authenticationMethodId: 'push-otp' });
  assert.equal(selected.status, 200, JSON.stringify(selected.body));
  const link = new URL((selected.body._links as Record<string, { href: string }>).scaOAuth!.href);
  const { verifier, challenge } = await pkce();
  link.searchParams.set('redirect_uri', tpp.redirectUri);
  link.searchParams.set('state', 'retry');
  link.searchParams.set('code_challenge', challenge);
  link.searchParams.set('code_challenge_method', 'S256');
  return { ...flow, authorisationId, link, verifier, state: 'retry' };
}
