/**
 * One decision per interaction: the same approval form sent 20 times at once (half approving, half
 * denying, as two tabs or a retry would), on real Redis + MongoDB-wire and on the memory stores. Every
 * time, what the TPP is told (a code that exchanges for tokens, or access_denied) agrees with the stored
 * consent status, and every submission gets a redirect or an HTML page, never JSON or a 500.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeSecretClient, startTestServer, type TestClient, type TestServer } from '../support/assent.ts';
import { bg, exchangeCode, followRedirects, openConsentPage, startFlow, submitDecision } from '../support/tpp.ts';

const SUBMISSIONS = 20;

for (const embedded of [false, true]) {
  describe(`${SUBMISSIONS} concurrent submissions of one approval form (${embedded ? 'memory' : 'Redis + MongoDB'})`, () => {
    let server: TestServer;
    let tpp: TestClient;

    before(async () => {
      tpp = makeSecretClient('tpp-double');
      server = await startTestServer({ clients: [tpp.config], profile: 'demo' }, { embedded });
    });
    after(() => server.stop());

    test('the stored status and the TPP’s OAuth result agree, every time', async () => {
      for (let trial = 0; trial < 4; trial += 1) {
        const flow = await startFlow(server, tpp);
        const page = await openConsentPage(server, flow);
        const responses = await Promise.all(
          Array.from({ length: SUBMISSIONS }, (_, i) => submitDecision(page, i % 2 === 0 ? 'approve' : 'deny')),
        );
        const toTpp: URL[] = [];
        for (const res of responses) {
          assert.ok(res.status === 303 || /text\/html/.test(res.headers.get('content-type') ?? ''), `trial ${trial}: ${res.status} ${res.headers.get('content-type')}`);
          assert.ok(res.status < 500, `trial ${trial}: ${res.status}`);
          const { res: last, left } = await followRedirects(server, page.jar, res);
          if (left) toTpp.push(new URL(left));
          else {
            assert.match(last.headers.get('content-type') ?? '', /text\/html/, `trial ${trial}: a page, not JSON`);
            assert.ok(last.status < 500, `trial ${trial}: ${last.status}`);
            await last.body?.cancel();
          }
        }
        assert.ok(toTpp.length >= 1, `trial ${trial}: someone got back to the TPP`);
        const results = new Set(toTpp.map((u) => u.searchParams.get('error') ?? 'code'));
        assert.equal(results.size, 1, `trial ${trial}: one result for the TPP: ${[...results].join(',')}`);
        const stored = await bg(server, flow.ccToken, 'GET', `/consents/${flow.consentId}/status`);
        const status = stored.body.consentStatus;
        if (results.has('code')) {
          assert.equal(status, 'valid', `trial ${trial}: the TPP got a code`);
          assert.equal(toTpp[0]!.searchParams.get('state'), flow.state);
          const token = await exchangeCode(server, tpp, toTpp[0]!.searchParams.get('code')!, flow.verifier);
          assert.equal(token.status, 200, `trial ${trial}: the code works: ${token.text}`);
        } else {
          assert.deepEqual([...results], ['access_denied'], `trial ${trial}`);
          assert.equal(status, 'rejected', `trial ${trial}: the TPP was denied`);
        }
      }
    });
  });
}
