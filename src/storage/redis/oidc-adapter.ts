/**
 * oidc-provider adapter on Redis (ioredis 6; needs Redis ≥ 7.0 for GETDEL, SET … GET and EXPIRE NX/GT).
 *
 * Keyspace (all under `prefix`; with a `protector`, every id, uid, user code and grant id below is its
 * keyed hash and every payload `{"sealed":"enc:v1:…"}`, see RedisOidcAdapterOptions.protector):
 *   `${model}:${id}`               the payload as a JSON string, PX = expiresIn (none: persistent)
 *   `uid:${model}:${uid}`          → id, same TTL as the item (Session.findByUid)
 *   `userCode:${model}:${code}`    → id, same TTL as the item (DeviceCode.findByUserCode)
 *   `grant:${grantId}`             sorted set of the item keys of grant-bound tokens, scored by their
 *                                  expiry (epoch ms, +inf = never); the key's own TTL only ever grows, so
 *                                  it outlives its longest-lived member. Shared by all models.
 *
 * Index entries are only trusted when the item they point to still carries the looked-up uid / userCode,
 * and they are removed compare-and-delete (only while still pointing at the item), because oidc-provider
 * re-keys Sessions under the same uid (destroy(oldId) + upsert(newId)).
 *
 * Not for Redis Cluster: one upsert writes several keys in one MULTI.
 */
import type { Redis } from 'ioredis';
import { LuaScript, deleteIfEquals } from './lua-script.ts';
import type { FieldProtector } from '../../crypto/field-protector.ts';
import {
  GRANT_BOUND_MODELS,
  epochSeconds,
  ttlMilliseconds,
  type AdapterPayload,
  type OidcAdapter,
  type OidcAdapterClass,
  type OidcAdapterOptions,
} from '../oidc-adapter.ts';

export interface RedisOidcAdapterOptions extends OidcAdapterOptions {
  /** prepended to every key; isolates providers / tests sharing a Redis. Default `oidc:` */
  prefix?: string;
  /**
   * Data at rest (src/crypto): with a field protector, ids, uids and user codes appear in keys and index
   * values only as their keyed hash (the protector's blind index), and every payload is sealed with its
   * encryption key ring (AES-256-GCM, bound to the record's key), so a dump or backup of Redis holds no
   * token value and no personal data. Without one, keys and payloads are in clear.
   */
  protector?: FieldProtector;
}

/** TTL given to a grant index that holds a member without expiry (a key without TTL could not be told apart from a fresh one). */
const GRANT_INDEX_NEVER_MS = 100 * 365 * 24 * 3600 * 1000;
/**
 * Grant index members are pruned once their expiry score is this far in the past (keeps long-lived grants'
 * indexes from growing with every refresh; the margin absorbs clock skew between app instances).
 */
const GRANT_PRUNE_GRACE_MS = 5 * 60 * 1000;

/**
 * consume: sets "consumed" on the stored JSON object in place, keeping its TTL, without re-encoding it
 * (a cjson round trip would turn empty arrays into objects), and only when it is not consumed yet: the
 * check and the write are one script, so of any number of concurrent calls exactly one returns 1. The
 * payload is JSON.stringify output, so the member is appended. A missing (or expired) key stays missing.
 */
const CONSUME_LUA = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
if string.sub(v, -1) ~= '}' then return redis.error_reply('ERR ' .. KEYS[1] .. ' does not hold a JSON object') end
local decoded = cjson.decode(v)
if type(decoded) ~= 'table' then return redis.error_reply('ERR ' .. KEYS[1] .. ' does not hold a JSON object') end
if decoded['consumed'] ~= nil and decoded['consumed'] ~= cjson.null then return 0 end
local member = '"consumed":' .. ARGV[1] .. '}'
local out
if v == '{}' then out = '{' .. member else out = string.sub(v, 1, -2) .. ',' .. member end
redis.call('SET', KEYS[1], out, 'KEEPTTL')
return 1
`;

const consumeScript = new LuaScript(CONSUME_LUA);

type ExecResult = [error: Error | null, result: unknown][] | null;

/** The replies of a MULTI/pipeline, throwing the first command error. */
function replies(results: ExecResult): unknown[] {
  if (!results) throw new Error('Redis transaction was aborted');
  return results.map(([error, result]) => {
    if (error) throw error;
    return result;
  });
}

const stringField = (payload: AdapterPayload, field: 'uid' | 'userCode' | 'grantId'): string | undefined => {
  const value = payload[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

/** the member of a sealed record that holds the encrypted payload (`consumed` stays beside it, in clear) */
const SEALED = 'sealed';

/** How records are named and written: in clear, or hashed and sealed with a FieldProtector. */
interface Codec {
  /** what stands for an id / uid / user code in keys and index values */
  name(space: string, value: string): string;
  encode(model: string, name: string, payload: AdapterPayload): string;
  decode(model: string, name: string, json: string): AdapterPayload;
}

const clearCodec: Codec = {
  name: (_space, value) => value,
  encode: (_model, _name, payload) => JSON.stringify(payload),
  decode: (_model, _name, json) => JSON.parse(json) as AdapterPayload,
};

function sealedCodec(protector: FieldProtector): Codec {
  // the record's own key is the associated data: a sealed payload copied under another key does not open
  const field = (model: string, name: string) => `oidc:${model}:${name}`;
  return {
    name: (space, value) => protector.index(`oidc:${space}`, value),
    encode(model, name, payload) {
      const { consumed, ...rest } = payload;
      // `consumed` stays outside, in clear: the consume script sets it without decrypting anything
      return JSON.stringify({ [SEALED]: protector.protect(field(model, name), JSON.stringify(rest)), ...(consumed !== undefined ? { consumed } : {}) });
    },
    decode(model, name, json) {
      const stored = JSON.parse(json) as Record<string, unknown>;
      if (typeof stored[SEALED] !== 'string') throw new Error(`${model} record is not sealed`);
      const payload = JSON.parse(protector.reveal(field(model, name), stored[SEALED])) as AdapterPayload;
      if (stored.consumed !== undefined) payload.consumed = stored.consumed as number;
      return payload;
    },
  };
}

/**
 * An adapter class for oidc-provider's `adapter` option, storing in `client` under `prefix`. The client
 * stays the caller's (connect / quit it yourself).
 */
export function redisAdapterClass(
  client: Redis,
  { prefix = 'oidc:', clockTolerance = 0, protector }: RedisOidcAdapterOptions = {},
): OidcAdapterClass {
  const codec = protector ? sealedCodec(protector) : clearCodec;
  /** `name`: the id as the keyspace names it (codec.name(model, id)) */
  const itemKey = (model: string, name: string) => `${prefix}${model}:${name}`;
  const uidKey = (model: string, uid: string) => `${prefix}uid:${model}:${codec.name(`uid:${model}`, uid)}`;
  const userCodeKey = (model: string, userCode: string) => `${prefix}userCode:${model}:${codec.name(`userCode:${model}`, userCode)}`;
  const grantKey = (grantId: string) => `${prefix}grant:${codec.name('grant', grantId)}`;
  const nameOf = (model: string, id: string) => codec.name(model, id);
  const parse = (model: string, name: string, json: string) => codec.decode(model, name, json);

  /** Removes the index entries `payload` (stored as model:name) owns, and — unless skipGrant — its grant membership. */
  async function dropLinks(
    model: string,
    name: string,
    payload: AdapterPayload,
    keep: { uid?: string | undefined; userCode?: string | undefined; grantId?: string | undefined } = {},
    skipGrant?: string,
  ): Promise<void> {
    const work: Promise<unknown>[] = [];
    const uid = stringField(payload, 'uid');
    if (uid && uid !== keep.uid) work.push(deleteIfEquals.run(client, [uidKey(model, uid)], [name]));
    const userCode = stringField(payload, 'userCode');
    if (userCode && userCode !== keep.userCode) {
      work.push(deleteIfEquals.run(client, [userCodeKey(model, userCode)], [name]));
    }
    const grantId = stringField(payload, 'grantId');
    if (grantId && grantId !== keep.grantId && grantId !== skipGrant && GRANT_BOUND_MODELS.has(model)) {
      work.push(client.zrem(grantKey(grantId), itemKey(model, name)));
    }
    await Promise.all(work);
  }

  return class RedisOidcAdapter implements OidcAdapter {
    readonly modelName: string;

    constructor(modelName: string) {
      this.modelName = modelName;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const ttl = ttlMilliseconds(expiresIn, clockTolerance);
      if (ttl !== undefined && ttl <= 0) {
        await this.destroy(id);
        return;
      }
      const model = this.modelName;
      const name = nameOf(model, id);
      const key = itemKey(model, name);
      const multi = client.multi();
      const value = codec.encode(model, name, payload);
      if (ttl === undefined) multi.set(key, value, 'GET');
      else multi.set(key, value, 'PX', ttl, 'GET');

      const uid = stringField(payload, 'uid');
      const userCode = stringField(payload, 'userCode');
      const grantId = stringField(payload, 'grantId');
      for (const indexKey of [uid && uidKey(model, uid), userCode && userCodeKey(model, userCode)]) {
        if (!indexKey) continue;
        if (ttl === undefined) multi.set(indexKey, name);
        else multi.set(indexKey, name, 'PX', ttl);
      }
      if (grantId && GRANT_BOUND_MODELS.has(model)) {
        const grant = grantKey(grantId);
        const now = Date.now();
        multi.zadd(grant, ttl === undefined ? '+inf' : now + ttl, key);
        multi.zremrangebyscore(grant, '-inf', `(${now - GRANT_PRUNE_GRACE_MS}`);
        const grantTtl = ttl ?? GRANT_INDEX_NEVER_MS;
        multi.pexpire(grant, grantTtl, 'NX'); // a fresh index
        multi.pexpire(grant, grantTtl, 'GT'); // an existing one only ever lives longer
      }
      const [previous] = replies(await multi.exec());

      if (typeof previous === 'string') {
        // the overwritten version's index entries / grant membership that this version no longer has
        await dropLinks(model, name, parse(model, name, previous), { uid, userCode, grantId });
      }
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (typeof id !== 'string') return undefined;
      return this.#findByName(nameOf(this.modelName, id));
    }

    async #findByName(name: string): Promise<AdapterPayload | undefined> {
      const json = await client.get(itemKey(this.modelName, name));
      return json === null ? undefined : parse(this.modelName, name, json);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.#findByIndex(typeof uid === 'string' ? uidKey(this.modelName, uid) : undefined, 'uid', uid);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.#findByIndex(
        typeof userCode === 'string' ? userCodeKey(this.modelName, userCode) : undefined,
        'userCode',
        userCode,
      );
    }

    async consume(id: string): Promise<boolean> {
      return (await consumeScript.run(client, [itemKey(this.modelName, nameOf(this.modelName, id))], [epochSeconds()])) === 1;
    }

    async destroy(id: string): Promise<void> {
      const name = nameOf(this.modelName, id);
      const json = await client.getdel(itemKey(this.modelName, name));
      if (json !== null) await dropLinks(this.modelName, name, parse(this.modelName, name, json));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      const grant = grantKey(grantId);
      // take the members and drop the index in one step: concurrent revocations split nothing between them
      const [members] = replies(await client.multi().zrange(grant, '0', '-1').del(grant).exec());
      if (!Array.isArray(members) || members.length === 0) return;
      const keys = members.filter((m): m is string => typeof m === 'string');
      const pipeline = client.pipeline();
      for (const key of keys) pipeline.getdel(key);
      const payloads = replies(await pipeline.exec());

      await Promise.all(
        keys.map((key, i) => {
          const json = payloads[i];
          if (typeof json !== 'string') return undefined;
          const rest = key.slice(prefix.length);
          const separator = rest.indexOf(':');
          const model = rest.slice(0, separator);
          const name = rest.slice(separator + 1);
          return dropLinks(model, name, parse(model, name, json), {}, grantId);
        }),
      );
    }

    async #findByIndex(
      indexKey: string | undefined,
      field: 'uid' | 'userCode',
      expected: string,
    ): Promise<AdapterPayload | undefined> {
      if (indexKey === undefined) return undefined;
      const name = await client.get(indexKey);
      if (name === null) return undefined;
      const payload = await this.#findByName(name);
      // an index entry can outlive a change of the item it points to; only trust it when the item agrees
      return payload && payload[field] === expected ? payload : undefined;
    }
  };
}
