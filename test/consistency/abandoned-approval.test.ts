/**
 * An approval stored, then its request never finished (the instance died, or hangs, between storing the
 * approval and handing it to oidc-provider), on real Redis and FerretDB: the consent must not stay valid
 * while its TPP never got a code. The request is held inside a persist step that runs after
 * assent.store-decision (so the consent is `valid` and the grant noted, as at a crash); the sweeper's
 * `abandoned-approvals` task ends the consent once consent.abandonedApprovalSeconds passed, and when the
 * held request is let go afterwards, the TPP still gets no code. A finished approval is never touched.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeKeyClient, startTestServer, type TestClient, type TestServer } from '../support/assent.ts';
import { decideWithoutBrowser, followRedirects, openConsentPage, startFlow, submitDecision } from '../support/tpp.ts';
import type { PersistStep } from '../../src/steps/contracts.ts';

let release: () => void = () => undefined;
let hold = false;
let held = 0;
const holding: PersistStep = {
  id: 'test.hold-after-store',
  // after assent.store-decision (1000): the approval is stored, not yet handed over
  priority: 1100,
  async run() {
    if (!hold) return;
    held++;
    await new Promise<void>((resolve) => (release = resolve));
  },
};

let server: TestServer;
let tpp: TestClient;

before(async () => {
  tpp = await makeKeyClient('abandoned-tpp');
  server = await startTestServer(
    { clients: [tpp.config], consent: { sweepIntervalSeconds: 3600, abandonedApprovalSeconds: 1 } },
    { start: { steps: { persist: [holding] } } },
  );
});
after(async () => {
  release();
  await server.stop();
});

const tasks = async () => (await server.assent.sweeper!.run()).tasks;

describe('an approval whose request never finished', () => {
  test('the sweeper ends the consent; the request let go later gives the TPP no code', async () => {
    const flow = await startFlow(server, tpp);
    const page = await openConsentPage(server, flow);
    hold = true;
    const submitted = submitDecision(page, 'approve');
    for (let i = 0; i < 100 && held === 0; i++) await sleep(20);
    assert.equal(held, 1, 'the request is held after the approval was stored');
    assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'valid');

    assert.equal((await tasks())['abandoned-approvals'], 0, 'not yet: inside the grace period');
    await sleep(1_200);
    assert.equal((await tasks())['abandoned-approvals'], 1);
    const ended = await server.assent.consents.get(flow.consentId);
    assert.equal(ended?.status, 'revokedByPsu');
    assert.match(JSON.stringify(ended?.history.at(-1)), /did not finish/);
    assert.equal((await tasks())['abandoned-approvals'], 0, 'dealt with once');

    hold = false;
    release();
    const { left } = await followRedirects(server, page.jar, await submitted);
    const back = left ? new URL(left) : undefined;
    assert.equal(back?.searchParams.get('code') ?? null, null, `no code for an ended consent: ${left}`);
    assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'revokedByPsu');
  });

  test('an approval that finished is left alone', async () => {
    const flow = await startFlow(server, tpp);
    const back = await decideWithoutBrowser(server, flow, 'approve');
    assert.ok(back.searchParams.get('code'));
    await sleep(1_200);
    assert.equal((await tasks())['abandoned-approvals'], 0);
    assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'valid');
  });
});
