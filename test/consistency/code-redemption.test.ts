/**
 * Concurrent redemption of one authorization code through the real token endpoint, on real Redis and
 * memory: exactly one of 20 parallel exchanges gets tokens, the others get invalid_grant, and — as for
 * a sequential replay (RFC 6749 §4.1.2) — the token family of a code redeemed twice is revoked, whatever
 * the timing. A single exchange keeps its tokens. A consent whose tokens were revoked that way is ended by
 * the bank (revokedByPsu, actor ASPSP), so it never stays `valid` with no usable token.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeSecretClient, startTestServer, type TestClient, type TestServer } from '../support/assent.ts';
import { decideWithoutBrowser, exchangeCode, introspect, startFlow } from '../support/tpp.ts';

/** the consent's status once the (asynchronous) ending of a replayed grant's consent had its chance */
async function statusOnceSettled(server: TestServer, consentId: string): Promise<string | undefined> {
  const deadline = Date.now() + 5_000;
  let status = (await server.assent.consents.get(consentId))?.status;
  while (status === 'valid' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    status = (await server.assent.consents.get(consentId))?.status;
  }
  return status;
}

for (const embedded of [false, true]) {
  describe(`20 parallel exchanges of one code (${embedded ? 'memory' : 'Redis'} adapter)`, () => {
    let server: TestServer;
    let tpp: TestClient;

    before(async () => {
      tpp = makeSecretClient('tpp-race');
      server = await startTestServer({ clients: [tpp.config], profile: 'demo' }, { embedded });
    });
    after(() => server.stop());

    test('exactly one exchange succeeds, every time', async () => {
      for (let trial = 0; trial < 3; trial += 1) {
        const flow = await startFlow(server, tpp);
        const back = await decideWithoutBrowser(server, flow);
        const code = back.searchParams.get('code');
        assert.ok(code, back.href);
        const results = await Promise.all(Array.from({ length: 20 }, () => exchangeCode(server, tpp, code, flow.verifier)));
        const won = results.filter((r) => r.status === 200);
        assert.equal(won.length, 1, `trial ${trial}: ${results.map((r) => r.status).join(',')}`);
        for (const lost of results.filter((r) => r.status !== 200)) {
          assert.equal(lost.status, 400, lost.text);
          assert.equal(lost.json.error, 'invalid_grant', lost.text);
        }
        for (const token of [won[0]!.json.access_token, won[0]!.json.refresh_token] as string[]) {
          const state = await introspect(server, tpp, token);
          assert.equal(state.active, false, `trial ${trial}: the replayed code's tokens are revoked`);
        }
        // and the consent, whose tokens are all dead, does not stay valid: consent and OAuth state agree
        assert.equal(await statusOnceSettled(server, flow.consentId), 'revokedByPsu', `trial ${trial}`);
      }
    });

    test('a single exchange keeps its tokens (the control)', async () => {
      const flow = await startFlow(server, tpp);
      const code = (await decideWithoutBrowser(server, flow)).searchParams.get('code')!;
      const result = await exchangeCode(server, tpp, code, flow.verifier);
      assert.equal(result.status, 200, result.text);
      assert.equal((await introspect(server, tpp, result.json.access_token as string)).active, true);
      assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'valid');
    });

    test('a code presented again later revokes its tokens and ends the consent, with the reason', async () => {
      const flow = await startFlow(server, tpp);
      const code = (await decideWithoutBrowser(server, flow)).searchParams.get('code')!;
      const first = await exchangeCode(server, tpp, code, flow.verifier);
      assert.equal(first.status, 200, first.text);
      const again = await exchangeCode(server, tpp, code, flow.verifier);
      assert.equal(again.status, 400, again.text);
      assert.equal(again.json.error, 'invalid_grant');
      assert.equal((await introspect(server, tpp, first.json.access_token as string)).active, false);
      assert.equal(await statusOnceSettled(server, flow.consentId), 'revokedByPsu');
      const last = (await server.assent.consents.get(flow.consentId))!.history.at(-1)!;
      assert.equal(last.actor, 'ASPSP');
      assert.match(String(last.reason), /authorization never completed/);
    });
  });
}
