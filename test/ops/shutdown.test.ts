/**
 * Graceful shutdown: close() stops accepting new connections but lets a request already in flight
 * finish and answer, then closes the stores.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { randomUUID } from 'node:crypto';
import { clientCredentialsToken, makeSecretClient, startTestServer } from '../support/assent.ts';

test('an in-flight request completes after close() begins; new connections are refused', async () => {
  const tpp = makeSecretClient('shutdown-tpp');
  const server = await startTestServer({ shutdownTimeoutMs: 5_000, clients: [tpp.config] });
  const token = (await clientCredentialsToken(server, tpp)).json.access_token as string;
  const { port } = new URL(server.url);
  const body = JSON.stringify({ access: { allPsd2: 'allAccounts' } });

  // Send the head and half the body, so the request is in flight when close() is called.
  const socket = connect({ host: '127.0.0.1', port: Number(port) });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  let response = '';
  socket.on('data', (chunk: Buffer) => (response += chunk.toString()));
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(
    `POST /psd2/consent/v1/consents HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
      `Authorization: Bearer ${token}\r\n` +
      `X-Request-ID: ${randomUUID()}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n` +
      body.slice(0, 10),
  );
  await new Promise((r) => setTimeout(r, 100));

  let closed = false;
  const closing = server.stop().then(() => (closed = true));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(closed, false, 'close() must wait for the in-flight request');
  await assert.rejects(fetch(`${server.url}/healthz`), 'a new connection must be refused while shutting down');

  socket.write(body.slice(10));
  await ended;
  await closing;
  // the request was answered (400: the body lacks required fields) rather than cut off
  assert.match(response, /^HTTP\/1\.1 400 /);
  assert.match(response, /FORMAT_ERROR/);
});
