/**
 * Signed messages: every way a TPP's JWS can be refused (with the spec's status and code), jti replay on
 * the shared Redis store and in memory, nothing recorded on failure, jwks_uri, and Assent's own signature.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, type JWK } from 'jose';
import { generateEphemeralJwks } from '../../src/oidc/keys.ts';
import {
  SignedMessageError,
  createMessageSigner,
  createMessageVerifier,
  type MessageSender,
} from '../../src/signing/signed-messages.ts';
import { MemoryReplayStore } from '../../src/storage/memory/replay-store.ts';
import { RedisReplayStore } from '../../src/storage/redis/replay-store.ts';
import type { ReplayStore } from '../../src/storage/replay-store.ts';

const AUD = 'https://assent.example/open-banking/payments/v4';
const ORG = '74e929d9-33b6-4d85-8ba7-c146c867a817';
const SKEW = 60;

const url = process.env.REDIS_URL;
assert.ok(url, 'REDIS_URL is not set: run through `node scripts/test-env.ts -- …`');
const redis = new Redis(url);
const PREFIX = `test:signed-messages:${randomUUID()}:`;
after(async () => {
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

async function tppKey(alg: 'PS256' | 'RS256' | 'ES256' = 'PS256', kid = `tpp-${randomUUID()}`) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { privateKey, publicJwk, kid, alg };
}

const tpp = await tppKey();
const sender: MessageSender = { clientId: 'tpp-1', organisationId: ORG, jwks: { keys: [tpp.publicJwk as Record<string, unknown>] } };

interface MessageOptions {
  claims?: Record<string, unknown>;
  omit?: string[];
  header?: Record<string, unknown>;
  key?: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];
  alg?: string;
}
function message({ claims = {}, omit = [], header = {}, key = tpp.privateKey, alg = 'PS256' }: MessageOptions = {}): Promise<string> {
  const body: Record<string, unknown> = { aud: AUD, iss: ORG, iat: Math.floor(Date.now() / 1000), jti: randomUUID(), data: { a: 1 }, ...claims };
  for (const name of omit) delete body[name];
  return new SignJWT(body).setProtectedHeader({ alg, kid: tpp.kid, typ: 'JWT', ...header }).sign(key);
}

async function refused(promise: Promise<unknown>, code: 'BAD_SIGNATURE' | 'INVALID_CLIENT') {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof SignedMessageError, String(err));
    assert.equal(err.code, code, err.message);
    assert.equal(err.status, code === 'BAD_SIGNATURE' ? 400 : 403);
    return true;
  });
}

const stores: Array<[string, () => ReplayStore]> = [
  ['memory', () => new MemoryReplayStore()],
  ['redis', () => new RedisReplayStore(redis, { prefix: `${PREFIX}${randomUUID()}:` })],
];

for (const [name, makeStore] of stores) {
  describe(`verifying a TPP's message (${name} replay store)`, { concurrency: true }, () => {
    const verifier = () => createMessageVerifier({ audience: AUD, clockSkewSeconds: SKEW, replay: makeStore() });

    test('a good message: the payload; the same jti again: 403 INVALID_CLIENT', async () => {
      const v = verifier();
      const jws = await message();
      const payload = await v.verify(jws, sender);
      assert.deepEqual(payload.data, { a: 1 });
      await refused(v.verify(jws, sender), 'INVALID_CLIENT');
      await refused(v.verify(await message({ claims: { jti: payload.jti } }), sender), 'INVALID_CLIENT');
    });

    test('20 concurrent copies of one message: exactly one accepted', async () => {
      const v = verifier();
      const jws = await message();
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => v.verify(jws, sender)));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as SignedMessageError).code, 'INVALID_CLIENT');
    });

    test('signature failures of every kind: 400 BAD_SIGNATURE', async () => {
      const v = verifier();
      await refused(v.verify('{"data":{"a":1}}', sender), 'BAD_SIGNATURE'); // plain JSON
      await refused(v.verify('not.a.jws', sender), 'BAD_SIGNATURE');
      await refused(v.verify('', sender), 'BAD_SIGNATURE');
      const rs = await tppKey('RS256', tpp.kid);
      await refused(v.verify(await message({ key: rs.privateKey, alg: 'RS256' }), sender), 'BAD_SIGNATURE'); // wrong alg
      const es = await tppKey('ES256', tpp.kid);
      await refused(v.verify(await message({ key: es.privateKey, alg: 'ES256' }), sender), 'BAD_SIGNATURE');
      await refused(v.verify(await message({ header: { kid: undefined } }), sender), 'BAD_SIGNATURE'); // no kid
      await refused(v.verify(await message({ header: { kid: 'unknown-kid' } }), sender), 'BAD_SIGNATURE');
      const stranger = await tppKey('PS256', tpp.kid); // right kid, someone else's key
      await refused(v.verify(await message({ key: stranger.privateKey }), sender), 'BAD_SIGNATURE');
      const [h, p, s] = (await message()).split('.');
      const tampered = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), data: { a: 2 } })).toString('base64url');
      await refused(v.verify(`${h}.${tampered}.${s}`, sender), 'BAD_SIGNATURE');
      await refused(v.verify(`${h}.${p}.`, sender), 'BAD_SIGNATURE');
      const unsigned = `${Buffer.from('{"alg":"none","kid":"x"}').toString('base64url')}.${p}.`;
      await refused(v.verify(unsigned, sender), 'BAD_SIGNATURE');
    });

    test('claim failures: 403 INVALID_CLIENT', async () => {
      const v = verifier();
      const now = Math.floor(Date.now() / 1000);
      await refused(v.verify(await message({ claims: { aud: 'https://elsewhere.example/' } }), sender), 'INVALID_CLIENT');
      await refused(v.verify(await message({ omit: ['aud'] }), sender), 'INVALID_CLIENT');
      await refused(v.verify(await message({ claims: { iss: 'another-org' } }), sender), 'INVALID_CLIENT');
      await refused(v.verify(await message({ omit: ['iss'] }), sender), 'INVALID_CLIENT');
      await refused(v.verify(await message({ claims: { iat: now - SKEW - 5 } }), sender), 'INVALID_CLIENT');
      await refused(v.verify(await message({ claims: { iat: now + SKEW + 5 } }), sender), 'INVALID_CLIENT');
      await refused(v.verify(await message({ omit: ['iat'] }), sender), 'INVALID_CLIENT');
      await refused(v.verify(await message({ omit: ['jti'] }), sender), 'INVALID_CLIENT');
      await refused(v.verify(await message({ claims: { jti: '' } }), sender), 'INVALID_CLIENT');
      await refused(v.verify(await message({ claims: { exp: now - SKEW - 5 } }), sender), 'INVALID_CLIENT');
      // a client without an organisation id or without keys cannot send messages
      await refused(v.verify(await message(), { ...sender, organisationId: undefined }), 'INVALID_CLIENT');
      await refused(v.verify(await message(), { clientId: 'tpp-1', organisationId: ORG }), 'INVALID_CLIENT');
      // iat within the skew either way is fine; aud as an array holding ours is fine
      await v.verify(await message({ claims: { iat: now - SKEW + 5 } }), sender);
      await v.verify(await message({ claims: { iat: now + SKEW - 5, aud: ['x', AUD] } }), sender);
    });

    test('nothing is recorded on failure: a refused message does not burn its jti', async () => {
      const v = verifier();
      const jti = randomUUID();
      await refused(v.verify(await message({ claims: { jti, aud: 'https://elsewhere.example/' } }), sender), 'INVALID_CLIENT');
      await refused(v.verify(await message({ claims: { jti }, header: { kid: 'unknown' } }), sender), 'BAD_SIGNATURE');
      const stranger = await tppKey('PS256', tpp.kid);
      await refused(v.verify(await message({ claims: { jti }, key: stranger.privateKey }), sender), 'BAD_SIGNATURE');
      assert.equal((await v.verify(await message({ claims: { jti } }), sender)).jti, jti);
    });

    test('jtis are per organisation', async () => {
      const v = verifier();
      const other = await tppKey();
      const otherSender: MessageSender = { clientId: 'tpp-2', organisationId: 'org-2', jwks: { keys: [other.publicJwk as Record<string, unknown>] } };
      const jti = randomUUID();
      await v.verify(await message({ claims: { jti } }), sender);
      const theirs = await new SignJWT({ aud: AUD, iss: 'org-2', iat: Math.floor(Date.now() / 1000), jti })
        .setProtectedHeader({ alg: 'PS256', kid: other.kid })
        .sign(other.privateKey);
      await v.verify(theirs, otherSender);
    });
  });
}

test('two instances sharing Redis: a jti accepted by one is refused by the other', async () => {
  const prefix = `${PREFIX}${randomUUID()}:`;
  const second = new Redis(url);
  try {
    const a = createMessageVerifier({ audience: AUD, clockSkewSeconds: SKEW, replay: new RedisReplayStore(redis, { prefix }) });
    const b = createMessageVerifier({ audience: AUD, clockSkewSeconds: SKEW, replay: new RedisReplayStore(second, { prefix }) });
    const jws = await message();
    const results = await Promise.allSettled([a.verify(jws, sender), b.verify(jws, sender), a.verify(jws, sender), b.verify(jws, sender)]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  } finally {
    await second.quit();
  }
});

test('keys from the client\'s jwks_uri', async () => {
  let fetches = 0;
  const server = createServer((_req, res) => {
    fetches++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [tpp.publicJwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as { port: number };
    const remote: MessageSender = { clientId: 'tpp-1', organisationId: ORG, jwksUri: `http://127.0.0.1:${port}/jwks` };
    const v = createMessageVerifier({ audience: AUD, clockSkewSeconds: SKEW, replay: new MemoryReplayStore() });
    await v.verify(await message(), remote);
    await v.verify(await message(), remote);
    assert.equal(fetches, 1, 'the key set is cached');
    const stranger = await tppKey('PS256', tpp.kid);
    await refused(v.verify(await message({ key: stranger.privateKey }), remote), 'BAD_SIGNATURE');
  } finally {
    server.close();
  }
});

test("Assent signs with its own PS256 key: verifiable with its public JWKS, with iss, aud, iat, jti", async () => {
  const jwks = generateEphemeralJwks();
  const signer = await createMessageSigner({ jwks: jwks as never, organisationId: 'assent-org' });
  const jws = await signer.sign({ data: { status: 'AWAITING_AUTHORISATION' } }, ORG);
  const publicKeys = jwks.keys.map(({ d, p, q, dp, dq, qi, ...pub }) => pub);
  const { payload, protectedHeader } = await jwtVerify(jws, createLocalJWKSet({ keys: publicKeys as JWK[] }), {
    issuer: 'assent-org',
    audience: ORG,
    algorithms: ['PS256'],
  });
  assert.equal(protectedHeader.kid, signer.kid);
  assert.equal(protectedHeader.typ, 'JWT');
  assert.deepEqual(payload.data, { status: 'AWAITING_AUTHORISATION' });
  assert.equal(typeof payload.jti, 'string');
  assert.ok(Math.abs((payload.iat as number) - Date.now() / 1000) < 5);
  await assert.rejects(createMessageSigner({ jwks: { keys: [jwks.keys[0] as never] }, organisationId: 'x' }), /PS256/);
});
