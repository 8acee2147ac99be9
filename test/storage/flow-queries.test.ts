/**
 * The MongoDB commands of one full consent flow (create → start authorisation → select method →
 * authorize → login → approve → token → introspect), seen through the driver's command monitoring on
 * real FerretDB: every filter addresses one document by `_id` (or the unique `grantId`), so a real
 * MongoDB serves each from an index, and their number stays at what docs/benchmarks.md states.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { MongoClient, type CommandStartedEvent } from 'mongodb';
import { makeSecretClient, requireEnv, startTestServer, type TestClient, type TestServer } from '../support/assent.ts';
import { decideWithoutBrowser, exchangeCode, introspect, startFlow } from '../support/tpp.ts';

/** MongoDB commands one full flow may send (see "Store round trips per flow" in docs/benchmarks.md) */
const MAX_COMMANDS_PER_FLOW = 7;
/** fields with a unique index on the consents collection (`_id` is always unique) */
const UNIQUE_KEYS = new Set(['_id', 'grantId']);

interface Seen {
  command: string;
  collection: string;
  filters: Array<Record<string, unknown>>;
}

function describeCommand(event: CommandStartedEvent): Seen | undefined {
  const cmd = event.command as Record<string, unknown>;
  const name = event.commandName;
  const collection = cmd[name];
  if (typeof collection !== 'string') return undefined;
  const filters: Array<Record<string, unknown>> = [];
  if (name === 'find' || name === 'count' || name === 'aggregate') filters.push((cmd.filter ?? cmd.query ?? {}) as Record<string, unknown>);
  if (name === 'findAndModify') filters.push((cmd.query ?? {}) as Record<string, unknown>);
  if (name === 'update') for (const u of cmd.updates as Array<{ q: Record<string, unknown> }>) filters.push(u.q);
  if (name === 'delete') for (const d of cmd.deletes as Array<{ q: Record<string, unknown> }>) filters.push(d.q);
  return { command: name, collection, filters };
}

/** true when the filter pins one document by a unique key with an exact value */
function byUniqueKey(filter: Record<string, unknown>): boolean {
  return Object.entries(filter).some(([key, value]) => UNIQUE_KEYS.has(key) && (typeof value === 'string' || typeof value === 'number'));
}

describe('MongoDB commands of one full flow', () => {
  let server: TestServer;
  let tpp: TestClient;
  let mongo: MongoClient;
  const database = `assent_test_${randomUUID().replaceAll('-', '')}`;
  const seen: Seen[] = [];
  let recording = false;

  before(async () => {
    tpp = makeSecretClient('tpp-queries');
    const uri = new URL(requireEnv('MONGODB_URI'));
    uri.searchParams.set('monitorCommands', 'true');
    server = await startTestServer({ clients: [tpp.config], profile: 'demo', mongodb: { uri: uri.href, database } });
    const client = (server.assent.stores.db as unknown as { client: MongoClient }).client;
    client.on('commandStarted', (event) => {
      if (!recording) return;
      const described = describeCommand(event);
      if (described) seen.push(described);
    });
    mongo = new MongoClient(requireEnv('MONGODB_URI'));
  });
  after(async () => {
    await server.stop();
    await mongo.db(database).dropDatabase().catch(() => undefined);
    await mongo.close();
  });

  test(`addresses documents by key only, in at most ${MAX_COMMANDS_PER_FLOW} commands`, async (t) => {
    // a warm-up flow, and some other consents, so the recorded flow is not the first of anything
    for (let i = 0; i < 2; i++) {
      const warm = await startFlow(server, tpp);
      await exchangeCode(server, tpp, (await decideWithoutBrowser(server, warm)).searchParams.get('code')!, warm.verifier);
    }
    recording = true;
    const flow = await startFlow(server, tpp);
    const code = (await decideWithoutBrowser(server, flow)).searchParams.get('code');
    assert.ok(code);
    const tokens = await exchangeCode(server, tpp, code, flow.verifier);
    assert.equal(tokens.status, 200, tokens.text);
    const info = await introspect(server, tpp, tokens.json.access_token as string);
    recording = false;
    assert.equal(info.active, true);
    assert.equal(info.consent_id, flow.consentId);

    const summary = seen.map((s) => `${s.command} ${s.collection} ${JSON.stringify(s.filters)}`).join('\n');
    for (const s of seen) {
      for (const filter of s.filters) assert.ok(byUniqueKey(filter), `not by a unique key: ${s.command} ${s.collection} ${JSON.stringify(filter)}\n${summary}`);
    }
    assert.ok(seen.length > 0, 'the monitoring saw the flow');
    assert.ok(seen.length <= MAX_COMMANDS_PER_FLOW, `${seen.length} commands:\n${summary}`);
    t.diagnostic(`${seen.length} MongoDB commands per flow:\n${summary}`);
  });
});
