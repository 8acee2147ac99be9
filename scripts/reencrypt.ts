/**
 * Moves every encrypted value of the consents collection onto the key ring's current key (key rotation),
 * and encrypts plaintext left by a store that ran without encryption. Safe while Assent runs; idempotent;
 * resumable (run it again, or pass --after with the last id it printed).
 *
 *   MONGODB_URI=mongodb://… MONGODB_DATABASE=assent ASSENT_DATA_KEYS='{"current":"k2",…}' npm run reencrypt
 *   node scripts/reencrypt.ts [--dry-run] [--batch-size 500] [--after <consent id>] [--collection consents]
 *
 * The key ring also comes from ASSENT_DATA_KEYS_FILE. Rotation, step by step:
 *   1. add the new key to the ring and make it `current`; deploy (new writes use it, old values still read)
 *   2. run this until it reports nothing left (exit code 0)
 *   3. remove the old key from the ring; deploy
 *
 * Exit codes: 0 done; 1 documents left (changed concurrently, unreadable, or write claims pending): run
 * again, and look at the unreadable ids; 2 bad usage or configuration.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { DataKeysError, dataProtection } from '../src/storage/mongo/protection.ts';
import { reencryptConsents, type ReencryptCounts } from '../src/storage/mongo/reencrypt.ts';

function fail(message: string): never {
  process.stderr.write(`reencrypt: ${message}\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      'dry-run': { type: 'boolean', default: false },
      'batch-size': { type: 'string', default: '500' },
      after: { type: 'string' },
      collection: { type: 'string', default: 'consents' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values;
} catch (err) {
  fail((err as Error).message);
}
if (args.help) {
  process.stdout.write('usage: node scripts/reencrypt.ts [--dry-run] [--batch-size N] [--after ID] [--collection NAME]\n' +
    'env: MONGODB_URI, MONGODB_DATABASE (default assent), ASSENT_DATA_KEYS or ASSENT_DATA_KEYS_FILE\n');
  process.exit(0);
}
const batchSize = Number(args['batch-size']);
if (!Number.isInteger(batchSize) || batchSize < 1) fail('--batch-size must be a whole number >= 1');

const uri = process.env.MONGODB_URI;
if (!uri) fail('MONGODB_URI is not set');
const database = process.env.MONGODB_DATABASE || 'assent';

let dataKeys = process.env.ASSENT_DATA_KEYS;
const dataKeysFile = process.env.ASSENT_DATA_KEYS_FILE;
if (!dataKeys && dataKeysFile) {
  try {
    dataKeys = readFileSync(dataKeysFile, 'utf8');
  } catch {
    fail(`keys.dataKeysFile: cannot read ${dataKeysFile}`);
  }
}

let protection;
try {
  // production: never an ephemeral ring here, it would encrypt data with keys nobody keeps
  protection = dataProtection({ mode: 'production', keys: { dataKeys, ...(dataKeysFile ? { dataKeysFile } : {}) } });
} catch (err) {
  if (err instanceof DataKeysError) fail(err.message);
  throw err;
}

const { ring } = protection;
const dryRun = args['dry-run'];
process.stderr.write(
  `reencrypt: ${database}.${args.collection}, current key "${ring.current}" (ring: ${ring.encryptionKeyIds.join(', ')})` +
    `${dryRun ? ', DRY RUN: nothing is written' : ''}\n`,
);

const client = new MongoClient(uri, { appName: 'assent-reencrypt', serverSelectionTimeoutMS: 5_000 });
let counts: ReencryptCounts;
const started = performance.now();
try {
  await client.connect();
  counts = await reencryptConsents(client.db(database), protection.protector, {
    collectionName: args.collection,
    batchSize,
    write: !dryRun,
    ...(args.after ? { after: args.after } : {}),
    onBatch: (p) =>
      process.stderr.write(
        `  … ${p.scanned} read, ${p.rewritten} ${dryRun ? 'to rewrite' : 'rewritten'}, ${p.valuesReencrypted} values re-encrypted (last id ${p.lastId})\n`,
      ),
  });
} finally {
  await client.close();
}

const seconds = ((performance.now() - started) / 1000).toFixed(1);
const rows: Array<[string, number]> = [
  ['documents read', counts.scanned],
  [dryRun ? 'documents to rewrite' : 'documents rewritten', counts.rewritten],
  ['documents already on the current key', counts.upToDate],
  [dryRun ? 'values to re-encrypt' : 'values re-encrypted', counts.valuesReencrypted],
  [dryRun ? 'plaintext values to encrypt' : 'plaintext values encrypted', counts.plaintextEncrypted],
  ['documents still changing (run again)', counts.conflicts],
  ['documents unreadable (left as they are)', counts.unreadable],
  ['write claims pending', counts.pendingClaims],
];
const width = Math.max(...rows.map(([label]) => label.length));
process.stdout.write(rows.map(([label, n]) => `${label.padEnd(width)}  ${n}`).join('\n') + `\n(${seconds} s)\n`);
if (counts.unreadableIds.length) process.stdout.write(`unreadable: ${counts.unreadableIds.join(', ')}\n`);
if (counts.conflictIds.length) process.stdout.write(`still changing: ${counts.conflictIds.join(', ')}\n`);

const left = counts.conflicts + counts.unreadable + counts.pendingClaims;
if (left === 0 && !dryRun) process.stdout.write(`every value is on key "${ring.current}": older keys can leave the ring\n`);
process.exit(left === 0 ? 0 : 1);
