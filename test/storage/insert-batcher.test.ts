/**
 * InsertBatcher (src/storage/mongo/insert-batcher.ts) on the real MongoDB-wire server: concurrent inserts
 * go as few multi-document commands, every caller learns its own document's fate, and a failed command
 * fails exactly the callers whose documents it carried.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { MongoClient, MongoServerError, type CommandStartedEvent, type Db } from 'mongodb';
import { InsertBatcher } from '../../src/storage/mongo/insert-batcher.ts';
import { freePort } from '../support/services.ts';
import { requireEnv } from '../support/assent.ts';

interface Doc {
  _id: string;
  n: number;
}

let client: MongoClient;
let db: Db;
/** documents per insert command sent */
const inserts: number[] = [];
let inFlight = 0;
let mostInFlight = 0;

before(async () => {
  client = new MongoClient(requireEnv('MONGODB_URI'), { monitorCommands: true });
  client.on('commandStarted', (e: CommandStartedEvent) => {
    if (e.commandName !== 'insert') return;
    inserts.push((e.command.documents as unknown[]).length);
    mostInFlight = Math.max(mostInFlight, ++inFlight);
  });
  const ended = (e: { commandName: string }) => {
    if (e.commandName === 'insert') inFlight--;
  };
  client.on('commandSucceeded', ended);
  client.on('commandFailed', ended);
  await client.connect();
  db = client.db(`insert_batcher_${randomUUID().slice(0, 8)}`);
});

after(async () => {
  await db?.dropDatabase().catch(() => undefined);
  await client?.close();
});

const isDuplicateKey = (err: unknown) =>
  err instanceof MongoServerError && (err.code === 11000 || /UNIQUE constraint failed|duplicate key value violates unique constraint/.test(err.message));

test('a lone insert is sent at once, as one document', async () => {
  const collection = db.collection<Doc>(`lone_${randomUUID().slice(0, 8)}`);
  const batcher = new InsertBatcher(collection);
  inserts.length = 0;
  await batcher.insert({ _id: 'a', n: 1 });
  assert.deepEqual(inserts, [1]);
  assert.deepEqual(await collection.findOne({ _id: 'a' }), { _id: 'a', n: 1 });
});

for (const maxInFlight of [1, 2, 4]) {
  test(`60 concurrent inserts, ${maxInFlight} in flight at most: all stored, in far fewer commands, none above maxBatch`, async () => {
    const collection = db.collection<Doc>(`many_${randomUUID().slice(0, 8)}`);
    const batcher = new InsertBatcher(collection, { maxBatch: 25, maxInFlight });
    inserts.length = 0;
    mostInFlight = 0;
    await Promise.all(Array.from({ length: 60 }, (_, n) => batcher.insert({ _id: `d-${n}`, n })));
    assert.equal(await collection.countDocuments({}), 60);
    assert.equal(inserts.reduce((a, b) => a + b, 0), 60, 'every document sent once');
    // the first `maxInFlight` go alone, the rest wait and go in batches of at most 25
    assert.ok(inserts.length <= maxInFlight + Math.ceil((60 - maxInFlight) / 25), `60 documents in ${inserts.length} commands: ${JSON.stringify(inserts)}`);
    assert.ok(Math.max(...inserts) <= 25, `a command carried ${Math.max(...inserts)} documents`);
    assert.ok(mostInFlight <= maxInFlight, `${mostInFlight} commands in flight at once`);
  });
}

test('a duplicate in a batch fails only its own caller, with the duplicate-key error insertOne gives', async () => {
  const collection = db.collection<Doc>(`dup_${randomUUID().slice(0, 8)}`);
  await collection.insertOne({ _id: 'taken', n: 0 });
  const batcher = new InsertBatcher(collection, { maxInFlight: 1 });
  inserts.length = 0;
  const ids = ['x-1', 'x-2', 'taken', 'x-3', 'x-3', 'x-4'];
  const results = await Promise.allSettled([batcher.insert({ _id: 'first', n: -1 }), ...ids.map((id, n) => batcher.insert({ _id: id, n }))]);
  const [first, ...rest] = results;
  assert.equal(first.status, 'fulfilled');
  const rejected = rest.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
  assert.deepEqual(rejected, [2, 4], 'the stored id and the second x-3 fail, nothing else');
  for (const i of rejected) assert.ok(isDuplicateKey((rest[i] as PromiseRejectedResult).reason), String((rest[i] as PromiseRejectedResult).reason));
  assert.ok(inserts.length === 2 && inserts[1] === ids.length, `sent as ${JSON.stringify(inserts)}`);
  assert.deepEqual((await collection.find({}).sort({ _id: 1 }).toArray()).map((d) => [d._id, d.n]), [
    ['first', -1], ['taken', 0], ['x-1', 0], ['x-2', 1], ['x-3', 3], ['x-4', 5],
  ]);
});

test('when the server cannot be reached, every caller of the batch is told, and the batcher goes on afterwards', async () => {
  const port = await freePort();
  const unreachable = new MongoClient(`mongodb://127.0.0.1:${port}/`, { serverSelectionTimeoutMS: 300 });
  const batcher = new InsertBatcher(unreachable.db('nowhere').collection<Doc>('c'));
  try {
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, n) => batcher.insert({ _id: `u-${n}`, n })));
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected', 'rejected', 'rejected']);
    const again = await Promise.allSettled([batcher.insert({ _id: 'later', n: 0 })]);
    assert.equal(again[0]!.status, 'rejected', 'a later insert is sent (and fails) instead of waiting forever');
  } finally {
    await unreachable.close();
  }
});
