/**
 * The one behavioural contract every oidc-provider adapter implementation must pass (run by
 * oidc-adapter.memory.test.ts and oidc-adapter.redis.test.ts).
 *
 * `makeFactory(space)` returns an adapter factory over storage named `space`: equal names share storage,
 * different names must be fully isolated (for Redis: different key prefixes). Every test works in its
 * own fresh space, so the tests run concurrently (the TTL waits overlap).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { OIDC_MODEL_NAMES, type AdapterPayload, type OidcAdapter, type OidcAdapterFactory } from '../../src/storage/oidc-adapter.ts';

export type MakeAdapterFactory = (space: string) => OidcAdapterFactory | Promise<OidcAdapterFactory>;

/** a bit past a 1 s TTL */
const AFTER_ONE_SECOND = 1_150;

/** every model oidc-provider stores, as the adapter module lists them */
const ALL_MODELS = OIDC_MODEL_NAMES;

const CONSUMABLE_MODELS = [
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'PushedAuthorizationRequest',
  'BackchannelAuthenticationRequest',
] as const;

const uniqueId = (label = 'id') => `${label}-${randomUUID()}`;
const now = () => Math.floor(Date.now() / 1000);

/** a payload shaped like oidc-provider's, with the JSON edge cases a storage round trip must keep */
function samplePayload(kind: string, extra: AdapterPayload = {}): AdapterPayload {
  const iat = now();
  return {
    iat,
    exp: iat + 3600,
    jti: uniqueId('jti'),
    kind,
    accountId: 'psu-1',
    clientId: 'client-1',
    scope: 'openid accounts',
    claims: { id_token: { acr: { essential: true, values: ['urn:a', 'urn:b'] } } },
    resource: [],
    authorizations: {},
    amr: ['pwd'],
    nonce: 'ünïcødé ✓ "quoted" \\ /slash',
    nothing: null,
    flag: false,
    ratio: 0.25,
    ...extra,
  };
}

export function oidcAdapterContract(name: string, makeFactory: MakeAdapterFactory): void {
  /** adapters for each model over one fresh, isolated storage space */
  async function freshSpace(): Promise<(model: string) => OidcAdapter> {
    const factory = await makeFactory(uniqueId('space'));
    const cache = new Map<string, OidcAdapter>();
    return (model) => {
      let adapter = cache.get(model);
      if (!adapter) {
        adapter = factory(model);
        cache.set(model, adapter);
      }
      return adapter;
    };
  }

  describe(`oidc adapter contract: ${name}`, { concurrency: true }, () => {
    test('upsert then find returns the payload, for every model', async () => {
      const adapter = await freshSpace();
      for (const model of ALL_MODELS) {
        const id = uniqueId(model);
        const payload = samplePayload(model);
        await adapter(model).upsert(id, payload, 3600);
        assert.deepEqual(await adapter(model).find(id), payload, model);
      }
    });

    test('find hands out a copy, not the stored object', async () => {
      const adapter = await freshSpace();
      const id = uniqueId();
      const payload = samplePayload('AccessToken');
      await adapter('AccessToken').upsert(id, payload, 60);
      payload.accountId = 'changed after upsert';
      const first = await adapter('AccessToken').find(id);
      assert.equal(first?.accountId, 'psu-1');
      if (first) first.accountId = 'changed after find';
      assert.equal((await adapter('AccessToken').find(id))?.accountId, 'psu-1');
    });

    test('find of an unknown id is undefined, for every model', async () => {
      const adapter = await freshSpace();
      for (const model of ALL_MODELS) {
        assert.equal(await adapter(model).find(uniqueId()), undefined, model);
      }
    });

    test('the same id under different models is different items', async () => {
      const adapter = await freshSpace();
      const id = uniqueId();
      await adapter('AccessToken').upsert(id, samplePayload('AccessToken'), 60);
      await adapter('RefreshToken').upsert(id, samplePayload('RefreshToken'), 60);
      assert.equal((await adapter('AccessToken').find(id))?.kind, 'AccessToken');
      assert.equal((await adapter('RefreshToken').find(id))?.kind, 'RefreshToken');
      assert.equal(await adapter('AuthorizationCode').find(id), undefined);
      await adapter('AccessToken').destroy(id);
      assert.equal(await adapter('AccessToken').find(id), undefined);
      assert.equal((await adapter('RefreshToken').find(id))?.kind, 'RefreshToken');
    });

    test('an item expires after expiresIn seconds, with its uid and userCode lookups', async () => {
      const adapter = await freshSpace();
      const tokenId = uniqueId();
      const sessionId = uniqueId();
      const deviceId = uniqueId();
      const uid = uniqueId('uid');
      const userCode = uniqueId('code');
      await adapter('AccessToken').upsert(tokenId, samplePayload('AccessToken'), 1);
      await adapter('Session').upsert(sessionId, samplePayload('Session', { uid }), 1);
      await adapter('DeviceCode').upsert(deviceId, samplePayload('DeviceCode', { userCode }), 1);
      assert.ok(await adapter('AccessToken').find(tokenId));
      assert.ok(await adapter('Session').findByUid(uid));
      assert.ok(await adapter('DeviceCode').findByUserCode(userCode));

      await sleep(AFTER_ONE_SECOND);
      assert.equal(await adapter('AccessToken').find(tokenId), undefined);
      assert.equal(await adapter('Session').find(sessionId), undefined);
      assert.equal(await adapter('Session').findByUid(uid), undefined);
      assert.equal(await adapter('DeviceCode').find(deviceId), undefined);
      assert.equal(await adapter('DeviceCode').findByUserCode(userCode), undefined);
    });

    test('without expiresIn an item does not expire', async () => {
      const adapter = await freshSpace();
      const clientId = uniqueId();
      const sessionId = uniqueId();
      const uid = uniqueId('uid');
      const client = { client_id: clientId, client_secret: 's', redirect_uris: ['https://tpp.example/cb'] };
      await adapter('Client').upsert(clientId, client);
      await adapter('Session').upsert(sessionId, samplePayload('Session', { uid }), undefined);
      await sleep(AFTER_ONE_SECOND);
      assert.deepEqual(await adapter('Client').find(clientId), client);
      assert.equal((await adapter('Session').findByUid(uid))?.uid, uid);
    });

    test('expiresIn ≤ 0 stores nothing (and removes a previous version)', async () => {
      const adapter = await freshSpace();
      const id = uniqueId();
      await adapter('AccessToken').upsert(id, samplePayload('AccessToken'), 60);
      await adapter('AccessToken').upsert(id, samplePayload('AccessToken'), 0);
      assert.equal(await adapter('AccessToken').find(id), undefined);
      await adapter('AccessToken').upsert(id, samplePayload('AccessToken'), -5);
      assert.equal(await adapter('AccessToken').find(id), undefined);
    });

    test('upsert replaces the whole payload and its expiry', async () => {
      const adapter = await freshSpace();
      const shortThenLong = uniqueId();
      const longThenShort = uniqueId();
      await adapter('Session').upsert(shortThenLong, samplePayload('Session', { first: true }), 1);
      const second = samplePayload('Session', { second: true });
      await adapter('Session').upsert(shortThenLong, second);
      const found = await adapter('Session').find(shortThenLong);
      assert.deepEqual(found, second);
      assert.equal(found?.first, undefined);

      await adapter('Session').upsert(longThenShort, samplePayload('Session'));
      await adapter('Session').upsert(longThenShort, samplePayload('Session'), 1);

      await sleep(AFTER_ONE_SECOND);
      assert.deepEqual(await adapter('Session').find(shortThenLong), second, 'the TTL went with the old version');
      assert.equal(await adapter('Session').find(longThenShort), undefined, 'the new TTL applies');
    });

    test('consume sets consumed (epoch seconds) and keeps every other field, for consumable models', async () => {
      const adapter = await freshSpace();
      for (const model of CONSUMABLE_MODELS) {
        const id = uniqueId(model);
        const payload = samplePayload(model, { grantId: uniqueId('grant') });
        await adapter(model).upsert(id, payload, 60);
        const before = now();
        await adapter(model).consume(id);
        const after = now();
        const found = await adapter(model).find(id);
        assert.ok(found, model);
        const { consumed, ...rest } = found;
        assert.equal(typeof consumed, 'number', model);
        assert.ok((consumed as number) >= before && (consumed as number) <= after, `${model}: ${String(consumed)}`);
        assert.deepEqual(rest, payload, model);
      }
    });

    test('consume answers whether this call consumed it; a consumed item stays as it was', async () => {
      const adapter = await freshSpace();
      const id = uniqueId();
      await adapter('RefreshToken').upsert(id, samplePayload('RefreshToken'), 60);
      assert.equal(await adapter('RefreshToken').consume(id), true);
      const once = await adapter('RefreshToken').find(id);
      assert.equal(typeof once?.consumed, 'number');
      assert.equal(await adapter('RefreshToken').consume(id), false, 'the second consume loses');
      assert.deepEqual(await adapter('RefreshToken').find(id), once, 'and changes nothing');

      const stale = uniqueId();
      await adapter('AuthorizationCode').upsert(stale, { consumed: 1, jti: stale, after: 'x' }, 60);
      assert.equal(await adapter('AuthorizationCode').consume(stale), false, 'stored as consumed already');
      assert.deepEqual(await adapter('AuthorizationCode').find(stale), { consumed: 1, jti: stale, after: 'x' });

      assert.equal(await adapter('AuthorizationCode').consume(uniqueId()), false, 'unknown');

      const empty = uniqueId();
      await adapter('PushedAuthorizationRequest').upsert(empty, {}, 60);
      assert.equal(await adapter('PushedAuthorizationRequest').consume(empty), true);
      assert.deepEqual(Object.keys((await adapter('PushedAuthorizationRequest').find(empty)) ?? {}), ['consumed']);
    });

    test('20 parallel consumes of one item: exactly one wins, for every consumable model', async () => {
      const adapter = await freshSpace();
      for (const model of CONSUMABLE_MODELS) {
        for (let trial = 0; trial < 5; trial += 1) {
          const id = uniqueId(model);
          await adapter(model).upsert(id, samplePayload(model, { grantId: uniqueId('grant') }), 60);
          const results = await Promise.all(Array.from({ length: 20 }, () => adapter(model).consume(id)));
          assert.equal(results.filter(Boolean).length, 1, `${model} trial ${trial}: ${results.join(',')}`);
        }
      }
    });

    test('consume keeps the expiry and never brings back an expired or unknown item', async () => {
      const adapter = await freshSpace();
      const consumedEarly = uniqueId();
      const consumedLate = uniqueId();
      await adapter('AuthorizationCode').upsert(consumedEarly, samplePayload('AuthorizationCode'), 1);
      await adapter('AuthorizationCode').upsert(consumedLate, samplePayload('AuthorizationCode'), 1);
      await adapter('AuthorizationCode').consume(consumedEarly);

      const unknown = uniqueId();
      await adapter('AuthorizationCode').consume(unknown);
      assert.equal(await adapter('AuthorizationCode').find(unknown), undefined);

      await sleep(AFTER_ONE_SECOND);
      assert.equal(await adapter('AuthorizationCode').find(consumedEarly), undefined, 'consume kept the TTL');
      await adapter('AuthorizationCode').consume(consumedLate);
      assert.equal(await adapter('AuthorizationCode').find(consumedLate), undefined, 'not resurrected');
    });

    test('destroy removes the item and its lookups; unknown ids are harmless', async () => {
      const adapter = await freshSpace();
      const sessionId = uniqueId();
      const deviceId = uniqueId();
      const uid = uniqueId('uid');
      const userCode = uniqueId('code');
      await adapter('Session').upsert(sessionId, samplePayload('Session', { uid }), 60);
      await adapter('DeviceCode').upsert(deviceId, samplePayload('DeviceCode', { userCode }), 60);
      await adapter('Session').destroy(sessionId);
      await adapter('DeviceCode').destroy(deviceId);
      assert.equal(await adapter('Session').find(sessionId), undefined);
      assert.equal(await adapter('Session').findByUid(uid), undefined);
      assert.equal(await adapter('DeviceCode').find(deviceId), undefined);
      assert.equal(await adapter('DeviceCode').findByUserCode(userCode), undefined);
      await adapter('Session').destroy(sessionId);
      await adapter('Grant').destroy(uniqueId());
    });

    test('findByUid finds the Session by its uid, also across a re-keying of the Session', async () => {
      const adapter = await freshSpace();
      const sessions = adapter('Session');
      const uid = uniqueId('uid');
      const oldId = uniqueId();
      const payload = samplePayload('Session', { uid });
      await sessions.upsert(oldId, payload, 60);
      assert.deepEqual(await sessions.findByUid(uid), payload);
      assert.equal(await sessions.findByUid(uniqueId('uid')), undefined);

      // oidc-provider's Session#resetIdentifier + save: destroy(oldId), then upsert(newId) with the same uid
      const newId = uniqueId();
      await sessions.destroy(oldId);
      await sessions.upsert(newId, { ...payload, jti: newId }, 60);
      assert.equal((await sessions.findByUid(uid))?.jti, newId);

      // the other order must not lose the index either
      const newerId = uniqueId();
      await sessions.upsert(newerId, { ...payload, jti: newerId }, 60);
      await sessions.destroy(newId);
      assert.equal((await sessions.findByUid(uid))?.jti, newerId);

      // a uid that the item no longer carries is not found any more
      const otherUid = uniqueId('uid');
      await sessions.upsert(newerId, { ...payload, jti: newerId, uid: otherUid }, 60);
      assert.equal(await sessions.findByUid(uid), undefined);
      assert.equal((await sessions.findByUid(otherUid))?.jti, newerId);
    });

    test('findByUserCode finds the DeviceCode by its user code', async () => {
      const adapter = await freshSpace();
      const devices = adapter('DeviceCode');
      const id = uniqueId();
      const userCode = uniqueId('code');
      const payload = samplePayload('DeviceCode', { userCode, grantId: uniqueId('grant') });
      await devices.upsert(id, payload, 60);
      assert.deepEqual(await devices.findByUserCode(userCode), payload);
      assert.equal(await devices.findByUserCode(uniqueId('code')), undefined);
      await devices.consume(id);
      assert.equal(typeof (await devices.findByUserCode(userCode))?.consumed, 'number');
      const replaced = uniqueId('code');
      await devices.upsert(id, { ...payload, userCode: replaced }, 60);
      assert.equal(await devices.findByUserCode(userCode), undefined);
      assert.equal((await devices.findByUserCode(replaced))?.userCode, replaced);
    });

    test('revokeByGrantId removes every grant-bound item of that grant and leaves other grants alone', async () => {
      const adapter = await freshSpace();
      const grant = uniqueId('grant');
      const otherGrant = uniqueId('grant');
      const userCode = uniqueId('code');
      const ids = {
        access: uniqueId(),
        refresh: uniqueId(),
        code: uniqueId(),
        device: uniqueId(),
        otherAccess: uniqueId(),
        otherRefresh: uniqueId(),
        interaction: uniqueId(),
        grantItself: grant,
      };
      await adapter('AccessToken').upsert(ids.access, samplePayload('AccessToken', { grantId: grant }), 60);
      await adapter('RefreshToken').upsert(ids.refresh, samplePayload('RefreshToken', { grantId: grant }), 600);
      await adapter('AuthorizationCode').upsert(ids.code, samplePayload('AuthorizationCode', { grantId: grant }), 30);
      await adapter('DeviceCode').upsert(ids.device, samplePayload('DeviceCode', { grantId: grant, userCode }), 30);
      await adapter('AccessToken').upsert(ids.otherAccess, samplePayload('AccessToken', { grantId: otherGrant }), 60);
      await adapter('RefreshToken').upsert(ids.otherRefresh, samplePayload('RefreshToken', { grantId: otherGrant }), 60);
      await adapter('Interaction').upsert(ids.interaction, samplePayload('Interaction', { grantId: grant }), 60);
      await adapter('Grant').upsert(ids.grantItself, samplePayload('Grant'), 600);

      await adapter('AccessToken').revokeByGrantId(grant);

      assert.equal(await adapter('AccessToken').find(ids.access), undefined);
      assert.equal(await adapter('RefreshToken').find(ids.refresh), undefined);
      assert.equal(await adapter('AuthorizationCode').find(ids.code), undefined);
      assert.equal(await adapter('DeviceCode').find(ids.device), undefined);
      assert.equal(await adapter('DeviceCode').findByUserCode(userCode), undefined);
      assert.ok(await adapter('AccessToken').find(ids.otherAccess), 'other grant kept');
      assert.ok(await adapter('RefreshToken').find(ids.otherRefresh), 'other grant kept');
      // not grant-bound tokens: oidc-provider destroys the Grant itself separately
      assert.ok(await adapter('Interaction').find(ids.interaction), 'Interaction is not a grant-bound token');
      assert.ok(await adapter('Grant').find(ids.grantItself), 'the Grant is destroyed separately');

      // again, and for grants nobody knows: harmless
      await adapter('RefreshToken').revokeByGrantId(grant);
      await adapter('AccessToken').revokeByGrantId(uniqueId('grant'));
      assert.ok(await adapter('AccessToken').find(ids.otherAccess));
    });

    test('revokeByGrantId called concurrently on every token model (as oidc-provider does) removes all', async () => {
      const adapter = await freshSpace();
      const grant = uniqueId('grant');
      const models = ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'DeviceCode', 'BackchannelAuthenticationRequest'];
      const items = models.flatMap((model) => [uniqueId(model), uniqueId(model)].map((id) => ({ model, id })));
      for (const { model, id } of items) await adapter(model).upsert(id, samplePayload(model, { grantId: grant }), 60);
      await Promise.all([
        ...models.map((model) => adapter(model).revokeByGrantId(grant)),
        adapter('Grant').destroy(grant),
      ]);
      for (const { model, id } of items) assert.equal(await adapter(model).find(id), undefined, model);
    });

    test('an item moved to another grant is revoked with the new grant, not the old one', async () => {
      const adapter = await freshSpace();
      const first = uniqueId('grant');
      const second = uniqueId('grant');
      const id = uniqueId();
      await adapter('RefreshToken').upsert(id, samplePayload('RefreshToken', { grantId: first }), 60);
      await adapter('RefreshToken').upsert(id, samplePayload('RefreshToken', { grantId: second }), 60);
      await adapter('AccessToken').revokeByGrantId(first);
      assert.ok(await adapter('RefreshToken').find(id));
      await adapter('AccessToken').revokeByGrantId(second);
      assert.equal(await adapter('RefreshToken').find(id), undefined);
    });

    test('the grant index outlives its longest-lived member, whatever the order of upserts', async () => {
      const adapter = await freshSpace();
      const longFirst = uniqueId('grant');
      const shortFirst = uniqueId('grant');
      const persistentFirst = uniqueId('grant');
      const ids = { a: uniqueId(), b: uniqueId(), c: uniqueId(), d: uniqueId(), e: uniqueId(), f: uniqueId() };

      await adapter('RefreshToken').upsert(ids.a, samplePayload('RefreshToken', { grantId: longFirst }), 60);
      await adapter('AccessToken').upsert(ids.b, samplePayload('AccessToken', { grantId: longFirst }), 1);

      await adapter('AccessToken').upsert(ids.c, samplePayload('AccessToken', { grantId: shortFirst }), 1);
      await adapter('RefreshToken').upsert(ids.d, samplePayload('RefreshToken', { grantId: shortFirst }), 60);

      await adapter('RefreshToken').upsert(ids.e, samplePayload('RefreshToken', { grantId: persistentFirst }));
      await adapter('AccessToken').upsert(ids.f, samplePayload('AccessToken', { grantId: persistentFirst }), 1);

      await sleep(AFTER_ONE_SECOND);
      assert.ok(await adapter('RefreshToken').find(ids.a));
      assert.ok(await adapter('RefreshToken').find(ids.d));
      assert.ok(await adapter('RefreshToken').find(ids.e));

      // the next member after the short ones expired joins the same index
      const late = uniqueId();
      await adapter('AccessToken').upsert(late, samplePayload('AccessToken', { grantId: shortFirst }), 1);

      for (const grant of [longFirst, shortFirst, persistentFirst]) await adapter('AccessToken').revokeByGrantId(grant);
      assert.equal(await adapter('RefreshToken').find(ids.a), undefined, 'long-lived member added first');
      assert.equal(await adapter('RefreshToken').find(ids.d), undefined, 'long-lived member added last');
      assert.equal(await adapter('RefreshToken').find(ids.e), undefined, 'persistent member');
      assert.equal(await adapter('AccessToken').find(late), undefined, 'member added after others expired');
    });

    test('separate storage spaces are isolated', async () => {
      const one = await makeFactory(uniqueId('space'));
      const two = await makeFactory(uniqueId('space'));
      const grant = uniqueId('grant');
      const uid = uniqueId('uid');
      const userCode = uniqueId('code');
      const id = uniqueId();
      await one('RefreshToken').upsert(id, samplePayload('RefreshToken', { grantId: grant }), 60);
      await one('Session').upsert(id, samplePayload('Session', { uid }), 60);
      await one('DeviceCode').upsert(id, samplePayload('DeviceCode', { userCode, grantId: grant }), 60);

      assert.equal(await two('RefreshToken').find(id), undefined);
      assert.equal(await two('Session').findByUid(uid), undefined);
      assert.equal(await two('DeviceCode').findByUserCode(userCode), undefined);

      await two('RefreshToken').consume(id);
      await two('RefreshToken').destroy(id);
      await two('Session').destroy(id);
      await two('AccessToken').revokeByGrantId(grant);
      assert.equal(await two('RefreshToken').find(id), undefined, 'consume in the other space created nothing');

      const kept = await one('RefreshToken').find(id);
      assert.ok(kept);
      assert.equal(kept.consumed, undefined);
      assert.equal((await one('Session').findByUid(uid))?.uid, uid);
      assert.equal((await one('DeviceCode').findByUserCode(userCode))?.userCode, userCode);
    });
  });
}
