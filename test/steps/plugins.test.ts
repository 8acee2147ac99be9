/**
 * Step plugins: the example plugin unit-tested with the testing helpers (no server), the pipeline's
 * ordering and conflict rules, the loader's checks, and the example loaded from config into a real
 * server, where it shapes the retrieve API and rejects a decision.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { euroAccountsOnly, highFrequencyNotice, noSavingsTransactions } from '../../examples/steps/risk-notice.ts';
import { accountsStep, validateAccountsStep } from '../../src/steps/defaults.ts';
import { StepError, type RetrievalStep } from '../../src/steps/contracts.ts';
import { retrievalPipeline, persistPipeline, StepConfigError } from '../../src/steps/pipeline.ts';
import { loadStepPlugins } from '../../src/steps/loader.ts';
import { retrievalContext, runPersistStep, runRetrievalStep, SAMPLE_ACCOUNTS } from '../../src/steps/testing.ts';
import { startTestServer } from '../support/assent.ts';

describe('the example plugin, unit-tested without a server', () => {
  test('high-frequency notice: silent at the threshold, a warning above it, in the customer language', async () => {
    assert.deepEqual((await runRetrievalStep(highFrequencyNotice, { consent: { frequencyPerDay: 10 } })).data.notices, []);
    const { data } = await runRetrievalStep(highFrequencyNotice, { consent: { frequencyPerDay: 24 } });
    assert.equal(data.notices[0]?.level, 'warning');
    assert.match(data.notices[0]!.text, /24 times a day/);
    assert.equal(data.extra['example.riskLevel'], 'elevated');
    const pt = await runRetrievalStep(highFrequencyNotice, { consent: { frequencyPerDay: 24 }, locale: 'pt-BR' });
    assert.match(pt.data.notices[0]!.text, /24 vezes por dia/);
  });

  test('euro-accounts-only runs after the default accounts step and makes other currencies unselectable', async () => {
    const accounts = [...SAMPLE_ACCOUNTS, { accountId: 'acc-3', iban: 'GB29NWBK60161331926819', currency: 'GBP', name: 'Pounds' }];
    const ctx = retrievalContext({ accounts, consent: { access: { allPsd2: 'allAccounts' } } });
    await retrievalPipeline([accountsStep, euroAccountsOnly]).run(ctx);
    const gbp = ctx.data.accounts.find((a) => a.accountId === 'acc-3');
    assert.equal(gbp?.selectable, false);
    assert.equal(gbp?.selected, false);
    assert.equal(ctx.data.accounts.find((a) => a.accountId === 'acc-1')?.selectable, true);
  });

  test('no-savings-transactions rejects with a typed error after validation filled grantedAccounts', async () => {
    const accounts = [{ accountId: 'acc-s', iban: 'SE2350000000058398257474', currency: 'SEK', name: 'Savings' }];
    const consent = { access: { transactions: [{ iban: 'SE2350000000058398257474' }] } };
    const pipeline = persistPipeline([validateAccountsStep, noSavingsTransactions]);
    const ctx = (await import('../../src/steps/testing.ts')).persistContext({ accounts, consent, decision: { approved: true, selectedAccountIds: ['acc-s'] } });
    await assert.rejects(pipeline.run(ctx), (err: unknown) => err instanceof StepError && err.code === 'invalid_request');
    // a denial is never blocked
    const denied = await runPersistStep(noSavingsTransactions, { accounts, consent, decision: { approved: false, selectedAccountIds: [] } });
    assert.equal(denied.grantsIssued, 0);
  });
});

describe('pipelines', () => {
  const step = (id: string, priority: number, log: string[], consentTypes?: RetrievalStep['consentTypes']): RetrievalStep => ({
    id,
    priority,
    ...(consentTypes ? { consentTypes } : {}),
    run: () => void log.push(id),
  });

  test('steps run in ascending priority, whatever the order they were given in', async () => {
    const log: string[] = [];
    await retrievalPipeline([step('c', 30, log), step('a', 10, log), step('b', 20, log)]).run(retrievalContext());
    assert.deepEqual(log, ['a', 'b', 'c']);
  });

  test('consentTypes limits a step to those consent types', async () => {
    const log: string[] = [];
    await retrievalPipeline([step('all', 1, log), step('brazil', 2, log, ['br-data-sharing'])]).run(retrievalContext());
    assert.deepEqual(log, ['all']);
  });

  test('duplicate ids or priorities are startup errors naming the steps', () => {
    assert.throws(() => retrievalPipeline([step('x', 1, []), step('x', 2, [])]), (e: unknown) => e instanceof StepConfigError && /duplicate id "x"/.test(e.message));
    assert.throws(() => retrievalPipeline([step('x', 1, []), step('y', 1, [])]), (e: unknown) => e instanceof StepConfigError && /"y" and "x" both have priority 1/.test(e.message));
  });
});

describe('the loader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'assent-plugins-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('loads each kind from a module that exports both', async () => {
    const loaded = await loadStepPlugins({ retrieval: ['./examples/steps/risk-notice.ts'], persist: ['./examples/steps/risk-notice.ts'] });
    assert.deepEqual(loaded.retrieval.map((s) => s.id), ['example.high-frequency-notice', 'example.euro-accounts-only']);
    assert.deepEqual(loaded.persist.map((s) => s.id), ['example.no-savings-transactions']);
  });

  test('a missing module, a module without steps, and a malformed step stop startup with the module named', async () => {
    await assert.rejects(loadStepPlugins({ retrieval: ['./nope.ts'], persist: [] }), /retrieval step module "\.\/nope\.ts" could not be loaded/);
    writeFileSync(join(dir, 'empty.mjs'), 'export const nothing = 1;');
    await assert.rejects(loadStepPlugins({ retrieval: [join(dir, 'empty.mjs')], persist: [] }), /exports no step/);
    writeFileSync(join(dir, 'bad.mjs'), 'export default { id: "bad", priority: "high", run: 1 };');
    await assert.rejects(loadStepPlugins({ retrieval: [], persist: [join(dir, 'bad.mjs')] }), (e: unknown) => e instanceof StepConfigError && /priority/.test(e.message) && /run/.test(e.message));
  });

  test('a plugin that collides with a default step stops the server from starting', async () => {
    const collide = join(dir, 'collide.mjs');
    writeFileSync(collide, 'export default { id: "acme.collide", priority: 100, run() {} };');
    await assert.rejects(
      startTestServer({ steps: { retrieval: [collide], persist: [] } }, { embedded: true }),
      /"acme\.collide" and "assent\.accounts" both have priority 100/,
    );
  });
});
