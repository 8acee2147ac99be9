/**
 * The cookie signer Koa and oidc-provider use in place of keygrip: the signatures are keygrip's (a cookie
 * signed before the switch still verifies, and the other way round), rotation works by index, forged or
 * malformed signatures fail, and a real Koa app signs and reads cookies with it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Keygrip from 'keygrip';
import Koa from 'koa';
import { CookieSigner } from '../../src/http/cookie-signer.ts';

const A = 'first-secret-0123456789abcdef';
const B = 'older-secret-fedcba9876543210';

describe('CookieSigner', () => {
  it('signs exactly as keygrip does (HMAC-SHA1, base64url, no padding)', () => {
    const ours = new CookieSigner([A, B]);
    const theirs = new Keygrip([A, B]);
    for (const data of ['_session=abc', '_interaction_resume=Xy-_z', 'n=', 'é=ü', 'x'.repeat(4000)]) {
      assert.equal(ours.sign(data), theirs.sign(data));
      assert.equal(ours.index(data, theirs.sign(data)), 0);
      assert.equal(theirs.index(data, ours.sign(data)), 0);
    }
  });

  it('verifies with every secret and answers which one matched (rotation)', () => {
    const before = new CookieSigner([B]);
    const after = new CookieSigner([A, B]);
    const data = '_session=abc';
    assert.equal(after.index(data, before.sign(data)), 1);
    assert.equal(after.verify(data, before.sign(data)), true);
    assert.equal(before.index(data, after.sign(data)), -1);
  });

  it('refuses forged, truncated, other data and non-string signatures', () => {
    const signer = new CookieSigner([A]);
    const good = signer.sign('_session=abc');
    assert.equal(signer.verify('_session=abd', good), false);
    assert.equal(signer.verify('_session=abc', good.slice(0, -1)), false);
    assert.equal(signer.verify('_session=abc', `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`), false);
    assert.equal(signer.verify('_session=abc', ''), false);
    assert.equal(signer.verify('_session=abc', undefined as unknown as string), false);
    assert.equal(new CookieSigner([B]).verify('_session=abc', good), false);
  });

  it('needs a secret', () => {
    assert.throws(() => new CookieSigner([]), /at least one secret/);
  });

  it('signs and reads cookies in a real Koa app, re-signing one verified by an older secret', async () => {
    const app = new Koa();
    app.keys = new CookieSigner([A, B]);
    app.use((ctx) => {
      if (ctx.path === '/set') ctx.cookies.set('n', 'v', { signed: true });
      ctx.body = { read: ctx.cookies.get('n', { signed: true }) ?? null };
    });
    const server = createServer(app.callback()).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const set = await fetch(`${base}/set`);
      const cookies = set.headers.getSetCookie().map((c) => c.split(';')[0]!);
      assert.deepEqual(cookies, ['n=v', `n.sig=${new Keygrip([A]).sign('n=v')}`]);
      const read = await fetch(`${base}/get`, { headers: { cookie: cookies.join('; ') } });
      assert.deepEqual(await read.json(), { read: 'v' });

      const forged = await fetch(`${base}/get`, { headers: { cookie: 'n=w; n.sig=' + cookies[1]!.slice(6) } });
      assert.deepEqual(await forged.json(), { read: null });

      const old = await fetch(`${base}/get`, { headers: { cookie: `n=v; n.sig=${new Keygrip([B]).sign('n=v')}` } });
      assert.deepEqual(await old.json(), { read: 'v' });
      assert.ok(old.headers.getSetCookie().some((c) => c.startsWith(`n.sig=${new Keygrip([A]).sign('n=v')}`)), 'an older signature is re-signed with the first secret');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
