/**
 * An Open Finance Brasil consent in Chromium, in Portuguese: the TPP creates it through the Consents API
 * and pushes `openid consent:{consentId}`; the customer logs in and approves on the pt-BR pages; the TPP's
 * token carries the consent; the customer withdraws it on "Seus aplicativos conectados" and the token
 * dies at once (the TPP reads REJECTED, USER, CUSTOMER_MANUALLY_REVOKED).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright';
import { launchBrowser } from './support/browser.ts';
import { callback, login, newContext } from './support/flow.ts';
import { clientAuth, makeSecretClient, pkce, postForm, startTestServer, type TestClient, type TestServer } from '../test/support/assent.ts';
import { exchangeCode, introspect, refresh } from '../test/support/tpp.ts';
import { br, consentBody, consentsToken } from '../test/dialects/brazil/helpers.ts';

let server: TestServer;
let tpp: TestClient;
let browser: Browser;

before(async () => {
  tpp = makeSecretClient('finans-app', { client_name: 'Finanças Fáceis', scope: 'openid offline_access consents accounts resources' });
  server = await startTestServer({ clients: [tpp.config] });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('create → PAR consent:{id} → login and approve in pt-BR → token bound → withdrawn on My consents → token dead', async () => {
  const token = await consentsToken(server, tpp);
  const created = await br(server, 'POST', '/consents', { token, json: consentBody() });
  assert.equal(created.status, 201);
  const consentId = created.body.data.consentId as string;

  const { verifier, challenge } = await pkce();
  const state = randomUUID();
  const auth = await clientAuth(tpp, server.issuer);
  const par = await postForm(
    `${server.issuer}/par`,
    { client_id: tpp.clientId, response_type: 'code', scope: `openid offline_access consent:${consentId} accounts resources`, redirect_uri: tpp.redirectUri, state, code_challenge: challenge, code_challenge_method: 'S256', ...auth.form },
    auth.headers,
  );
  assert.equal(par.status, 201, JSON.stringify(par.json));
  const link = new URL(`${server.issuer}/authorize`);
  link.searchParams.set('client_id', tpp.clientId);
  link.searchParams.set('request_uri', String(par.json.request_uri));

  const { context, page, callbacks } = await newContext(browser, tpp, 'pt-BR');
  try {
    await page.goto(link.href);
    assert.match(await page.getByRole('heading', { level: 1 }).innerText(), /Entre na sua conta/);
    await login(page);
    await page.getByRole('button', { name: 'Permitir acesso' }).waitFor();
    const text = await page.locator('main').innerText();
    assert.match(text, /Finanças Fáceis quer acessar/);
    assert.match(text, /Saldos das contas/);
    await page.getByRole('button', { name: 'Permitir acesso' }).click();
    const back = await callback(callbacks);
    await page.waitForURL((u) => u.origin === back.origin);
    assert.equal(back.searchParams.get('state'), state);
    const tokens = await exchangeCode(server, tpp, back.searchParams.get('code')!, verifier);
    assert.equal(tokens.status, 200, tokens.text);
    const accessToken = tokens.json.access_token as string;
    const active = await introspect(server, tpp, accessToken);
    assert.equal(active.active, true);
    assert.equal(active.consent_id, consentId);
    assert.equal((await br(server, 'GET', `/consents/${consentId}`, { token })).body.data.status, 'AUTHORISED');

    await page.goto(`${server.url}/my-consents`);
    await login(page);
    const card = page.locator('.card', { hasText: 'Finanças Fáceis' });
    await card.waitFor();
    await card.getByRole('link', { name: 'Encerrar acesso' }).click();
    await page.getByRole('heading', { level: 1, name: /Encerrar o acesso de Finanças Fáceis/ }).waitFor();
    await page.getByRole('button', { name: 'Encerrar acesso' }).click();
    await page.getByRole('status').waitFor();
    assert.match(await page.getByRole('status').innerText(), /Acesso encerrado/);

    assert.equal((await introspect(server, tpp, accessToken)).active, false);
    assert.equal((await refresh(server, tpp, tokens.json.refresh_token as string)).json.error, 'invalid_grant');
    const ended = await br(server, 'GET', `/consents/${consentId}`, { token });
    assert.equal(ended.body.data.status, 'REJECTED');
    assert.deepEqual(ended.body.data.rejection, { rejectedBy: 'USER', reason: { code: 'CUSTOMER_MANUALLY_REVOKED' } });
  } finally {
    await context.close();
  }
});
