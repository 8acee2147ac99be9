/**
 * The plugin API as an implementer meets it: docs/plugins.md's example steps and their test, extracted
 * from the doc, typechecked and run through the package name (`assent/steps`, a self-reference via
 * package.json `exports`); step output validated with zod, naming the step and the field; the loaded steps
 * logged at startup with their source; `data.extra` reaching a bank's own partial.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { StepError, StepOutputError, type RetrievalStep } from 'assent/steps';
import { accountsStep, retrievalPipeline, retrievalContext, runRetrievalStep, persistPipeline, persistContext } from 'assent/steps/testing';
import { createViews, VIEWS_DIR } from '../../src/interaction/views.ts';
import { startTestServer } from '../support/assent.ts';

const ROOT = join(import.meta.dirname, '..', '..');
// inside the package (so `assent/…` resolves to itself) and ignored by git
const OUT = join(ROOT, 'test-results', 'doc-examples');

function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

describe("docs/plugins.md's example, through the package name", () => {
  const blocks = tsBlocks(readFileSync(join(ROOT, 'docs', 'plugins.md'), 'utf8'));
  const example = blocks.find((b) => b.includes("from 'assent/steps'"));
  const usage = blocks.find((b) => b.includes("from 'assent/steps/testing'"));

  before(() => {
    assert.ok(example && usage, 'the doc holds the example and its test');
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, 'acme-steps.ts'), example);
    writeFileSync(join(OUT, 'acme-steps.check.ts'), usage);
    writeFileSync(
      join(OUT, 'tsconfig.json'),
      JSON.stringify({ extends: '../../tsconfig.json', include: ['acme-steps.ts', 'acme-steps.check.ts'] }),
    );
  });

  test('compiles (tsc, the project settings)', async () => {
    const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
    const run = promisify(execFile)(process.execPath, [tsc, '--noEmit', '-p', join(OUT, 'tsconfig.json')], { cwd: ROOT });
    await run.catch((err: { stdout?: string; stderr?: string }) => assert.fail(`tsc: ${err.stdout}${err.stderr}`));
  });

  test("runs: the doc's own usage block passes, and its persist step refuses four accounts with a StepError", async () => {
    await import(pathToFileURL(join(OUT, 'acme-steps.check.ts')).href);
    const steps = (await import(pathToFileURL(join(OUT, 'acme-steps.ts')).href)) as Record<string, { run(ctx: unknown): void }>;
    const ctx = persistContext({ decision: { approved: true, selectedAccountIds: [] } });
    ctx.grantedAccounts = ['a', 'b', 'c', 'd'].map((accountId) => ({ accountId, access: ['accounts' as const] }));
    assert.throws(() => steps.atMostThreeAccounts!.run(ctx), (err: unknown) => err instanceof StepError && err.code === 'invalid_request');
  });
});

describe('step output is validated', () => {
  test('a retrieval step writing the wrong shape is named, with the field', async () => {
    const broken = {
      id: 'acme.broken',
      priority: 150,
      run(ctx) {
        (ctx.data.accounts[0] as unknown as Record<string, unknown>).selected = 'yes';
      },
    } satisfies RetrievalStep;
    const pipeline = retrievalPipeline([accountsStep, broken]);
    await assert.rejects(pipeline.run(retrievalContext()), (err: unknown) => {
      assert.ok(err instanceof StepOutputError);
      assert.equal(err.stepId, 'acme.broken');
      assert.equal(err.field, 'data.accounts.0.selected');
      assert.match(err.message, /retrieval step "acme\.broken" wrote an invalid data\.accounts\.0\.selected/);
      return true;
    });
    const notices = { id: 'acme.notices', priority: 1, run: (ctx) => void ctx.data.notices.push({ level: 'loud', text: 1 } as never) } satisfies RetrievalStep;
    await assert.rejects(runRetrievalStep(notices), /"acme\.notices" wrote an invalid data\.notices\.0\.level/);
  });

  test('a persist step writing bad grantedAccounts is named, with the field', async () => {
    const pipeline = persistPipeline([{ id: 'acme.grants', priority: 500, run: (ctx) => void (ctx.grantedAccounts = [{ accountId: 'x', access: ['everything' as never] }]) }]);
    await assert.rejects(pipeline.run(persistContext()), /persist step "acme\.grants" wrote an invalid grantedAccounts\.0\.access\.0/);
  });

  test('well-formed output passes, defaults included', async () => {
    const ctx = retrievalContext();
    await retrievalPipeline([accountsStep]).run(ctx);
    assert.equal(ctx.data.accounts.length, 2);
  });
});

describe('startup and views', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'assent-views-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the loaded steps are logged with id, priority and source', async () => {
    const inCode = { id: 'acme.in-code', priority: 175, run() {} } satisfies RetrievalStep;
    const server = await startTestServer(
      { steps: { retrieval: ['./examples/steps/risk-notice.ts'], persist: [] } },
      { embedded: true, start: { steps: { retrieval: [inCode] } } },
    );
    try {
      const line = server.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'approval steps loaded');
      assert.ok(line, 'no "approval steps loaded" line');
      const retrieval = line.retrieval as Array<{ id: string; priority: number; source: string }>;
      assert.deepEqual(retrieval.map((s) => `${s.priority} ${s.id} ${s.source}`), [
        '100 assent.accounts assent',
        '150 example.euro-accounts-only ./examples/steps/risk-notice.ts',
        '175 acme.in-code code',
        '200 assent.permissions assent',
        '250 example.high-frequency-notice ./examples/steps/risk-notice.ts',
        '300 assent.basic-data assent',
        '350 assent.br-payment-summary assent',
      ]);
      assert.ok((line.persist as Array<{ id: string }>).some((s) => s.id === 'assent.store-decision'));
    } finally {
      await server.stop();
    }
  });

  test("data.extra reaches a bank's own partial (viewsDir searched before Assent's views)", () => {
    mkdirSync(join(dir, 'partials'));
    writeFileSync(join(dir, 'partials', 'consent-extra.njk'), `<p class="acme">Segment: {{ data.extra['acme.segment'] }}</p>`);
    const data = { type: 'accounts', permissions: [], allowMultipleAccounts: true, basicConsentData: {}, accounts: [], notices: [], extra: { 'acme.segment': '<retail>' } };
    const context = { client: { name: 'TPP' }, data, consent: {} };
    assert.match(createViews([dir, VIEWS_DIR]).render('consent', context), /<p class="acme">Segment: &lt;retail&gt;<\/p>/);
    assert.doesNotMatch(createViews().render('consent', context), /Segment/);
  });
});
