/**
 * Redis stops in the middle of a code exchange: after oidc-provider consumed the code, when it saves the
 * first token (the fault is injected at that exact moment by stopping the real redis-server with SIGSTOP;
 * nothing is faked). The token endpoint answers 503 temporarily_unavailable (never 500), and afterwards
 * the consent and the OAuth state agree. This file runs its own redis-server so it can stop it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startRedis, type RunningService } from '../support/services.ts';
import { makeSecretClient, startTestServer, type TestServer } from '../support/assent.ts';
import { bg, decideWithoutBrowser, exchangeCode, followRedirects, introspect, openConsentPage, startFlow, submitDecision } from '../support/tpp.ts';

const dir = mkdtempSync(join(tmpdir(), 'assent-exchange-outage-'));
const tpp = makeSecretClient('tpp-exchange-outage');
let redis: RunningService;
let server: TestServer;

before(async () => {
  redis = await startRedis({ dir: join(dir, 'r') });
  server = await startTestServer({ clients: [tpp.config], redis: { url: redis.url, prefix: 'outage:', commandTimeoutMs: 300 } });
});
after(async () => {
  if (redis.pid) process.kill(redis.pid, 'SIGCONT');
  await server.stop().catch(() => undefined);
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** stops Redis the next time oidc-provider saves a `model` (AccessToken: after the code was consumed) */
function stopRedisAtSave(model: 'AccessToken' | 'Interaction' | 'AuthorizationCode' = 'AccessToken'): () => void {
  const adapter = (server.assent.provider[model] as unknown as { adapter: { upsert: (...a: unknown[]) => Promise<void> } }).adapter;
  const upsert = adapter.upsert;
  adapter.upsert = async (...args: unknown[]) => {
    adapter.upsert = upsert;
    process.kill(redis.pid!, 'SIGSTOP');
    return upsert.apply(adapter, args);
  };
  return () => {
    adapter.upsert = upsert;
    process.kill(redis.pid!, 'SIGCONT');
  };
}

async function until<T>(what: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  let value = await what().catch(() => undefined as T);
  while (!ok(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    value = await what().catch(() => undefined as T);
  }
  return value;
}

test('Redis stopping after the code was consumed: 503 temporarily_unavailable, then consent and OAuth state agree', async () => {
  const flow = await startFlow(server, tpp);
  const code = (await decideWithoutBrowser(server, flow)).searchParams.get('code');
  assert.ok(code);
  assert.equal((await bg(server, flow.ccToken, 'GET', `/consents/${flow.consentId}/status`)).body.consentStatus, 'valid');

  const resume = stopRedisAtSave('AccessToken');
  let failed;
  try {
    failed = await exchangeCode(server, tpp, code, flow.verifier);
  } finally {
    resume();
  }
  assert.equal(failed.status, 503, failed.text);
  assert.equal(failed.json.error, 'temporarily_unavailable');
  assert.doesNotMatch(failed.text, /stack|at .*\.ts/);

  // the TPP retries, as a 503 invites it to
  const retried = await until(() => exchangeCode(server, tpp, code, flow.verifier), (r) => r !== undefined && r.status !== 503);
  const status = () => bg(server, flow.ccToken, 'GET', `/consents/${flow.consentId}/status`).then((r) => r.body.consentStatus);
  if (retried.status === 200) {
    assert.equal((await introspect(server, tpp, retried.json.access_token as string)).active, true);
    assert.equal(await status(), 'valid');
  } else {
    // the code was consumed before Redis stopped: its retry is a replay, its grant is revoked, and the
    // consent (which the TPP can now never use) is ended by the bank, with the reason in its history
    assert.equal(retried.status, 400, retried.text);
    assert.equal(retried.json.error, 'invalid_grant');
    assert.equal(await until(status, (s) => s !== 'valid'), 'revokedByPsu', 'the TPP can never get a token for this consent: it must not stay valid');
    const stored = await server.assent.consents.get(flow.consentId);
    assert.equal(stored?.history.at(-1)?.actor, 'ASPSP');
    assert.match(String(stored?.history.at(-1)?.reason), /authorization never completed/);
  }
});

for (const [model, when] of [
  ['Interaction', 'the approval is handed to oidc-provider (the consent already approved)'],
  ['AuthorizationCode', 'the code is saved on the way back to the TPP'],
] as const) {
  test(`Redis stopping when ${when}: the TPP gets no code, and the consent does not stay valid`, async () => {
    const flow = await startFlow(server, tpp);
    const page = await openConsentPage(server, flow);
    const resume = stopRedisAtSave(model);
    let left: string | undefined;
    try {
      left = (await followRedirects(server, page.jar, await submitDecision(page, 'approve'))).left;
    } finally {
      resume();
    }
    assert.equal(left === undefined || new URL(left).searchParams.get('code') === null, true, `a code reached the TPP: ${left}`);
    const status = () => bg(server, flow.ccToken, 'GET', `/consents/${flow.consentId}/status`).then((r) => r.body.consentStatus);
    assert.equal(await until(status, (s) => s !== 'valid'), 'revokedByPsu');
    const last = (await server.assent.consents.get(flow.consentId))!.history.at(-1)!;
    assert.equal(last.actor, 'ASPSP');
    assert.match(String(last.reason), /could not be handed back to the TPP/);
  });
}
