/**
 * Lookups by `_id` (every consent read and write on the approval path) are served from an index by the
 * MongoDB-wire server the tests run on, not by a scan: on MongoDB the `_id` index, on FerretDB's
 * PostgreSQL backend the GIN index the test environment's event trigger gives every table FerretDB
 * creates (test/support/services.ts, ID_INDEX_TRIGGER). FerretDB on SQLite cannot: skipped there.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { MongoClient, type Db } from 'mongodb';
import { requireEnv } from '../support/assent.ts';

let client: MongoClient;
let db: Db;
let backend: 'mongodb' | 'ferretdb-postgresql' | 'ferretdb-sqlite';

before(async () => {
  client = new MongoClient(requireEnv('MONGODB_URI'));
  await client.connect();
  db = client.db(`id_lookups_${randomUUID().slice(0, 8)}`);
  const info = await db.admin().command({ buildInfo: 1 });
  if (!('ferretdb' in info) && !('ferretdbVersion' in info)) backend = 'mongodb';
  else backend = process.env.ASSENT_FERRETDB_BACKEND === 'sqlite' ? 'ferretdb-sqlite' : 'ferretdb-postgresql';
});

after(async () => {
  await db?.dropDatabase().catch(() => undefined);
  await client?.close();
});

/** the plan nodes' types of an explained find, whichever server answered */
function planNodes(explained: Record<string, unknown>): string[] {
  const found: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if ((key === 'Node Type' || key === 'stage') && typeof value === 'string') found.push(value);
      else walk(value);
    }
  };
  walk(explained.queryPlanner ?? explained);
  return found;
}

test('a find by _id (with the revision a transition expects) uses an index, in a collection of 2,000 documents', async (t) => {
  if (backend === 'ferretdb-sqlite') return t.skip('FerretDB on SQLite scans every filter');
  const collection = db.collection<{ _id: string; status: string; revision: number; payload: string }>('consents');
  await collection.insertMany(Array.from({ length: 2_000 }, (_, i) => ({ _id: `c-${i}`, status: 'received', revision: i % 3, payload: 'x'.repeat(200) })));

  for (const filter of [{ _id: 'c-1234' }, { _id: 'c-1234', status: 'received', revision: 1 }]) {
    const nodes = planNodes(await collection.find(filter).explain());
    assert.ok(nodes.length > 0, `no plan in the explain output for ${JSON.stringify(filter)}`);
    if (backend === 'mongodb') assert.ok(!nodes.includes('COLLSCAN'), `MongoDB scans for ${JSON.stringify(filter)}: ${nodes.join(' > ')}`);
    else assert.ok(nodes.includes('Bitmap Index Scan'), `PostgreSQL scans for ${JSON.stringify(filter)}: ${nodes.join(' > ')}`);
  }
  assert.equal((await collection.findOne({ _id: 'c-1234', revision: 1 }))?._id, 'c-1234');
  assert.equal(await collection.findOne({ _id: 'c-1234', revision: 2 }), null, 'the index answers only what the filter matches');
});

test('a collection created after the server started gets the index as well', async (t) => {
  if (backend !== 'ferretdb-postgresql') return t.skip('only the test PostgreSQL cluster has the trigger');
  const collection = db.collection<{ _id: string }>(`later_${randomUUID().slice(0, 8)}`);
  await collection.insertOne({ _id: 'only' });
  assert.ok(planNodes(await collection.find({ _id: 'only' }).explain()).includes('Bitmap Index Scan'));
});
