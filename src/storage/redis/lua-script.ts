/**
 * A Lua script for Redis, run as EVALSHA (the script's SHA-1 only) with a fallback to EVAL when the
 * server's script cache does not hold it yet (a fresh or restarted server, a failover): the body is sent
 * once per server, not with every call. Every Redis store in this folder runs its scripts through it.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export class LuaScript {
  readonly source: string;
  readonly sha1: string;

  constructor(source: string) {
    this.source = source;
    this.sha1 = createHash('sha1').update(source).digest('hex');
  }

  async run(client: Redis, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await client.evalsha(this.sha1, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/** Deletes KEYS[1] only while it still holds ARGV[1]; 1 when it did. */
export const deleteIfEquals = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);
