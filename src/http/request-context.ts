/**
 * The request context: an id for every request (the caller's X-Request-ID when it is a sane token,
 * otherwise a fresh UUID), echoed on the response with x-fapi-interaction-id, and reachable from any code
 * running for that request (logs, domain history entries) through AsyncLocalStorage.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';

export interface RequestContext {
  requestId: string;
  interactionId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}

export function requestContext(): Middleware {
  return async (ctx, next) => {
    const given = ctx.get('x-request-id');
    const requestId = SAFE_ID.test(given) ? given : randomUUID();
    const givenInteraction = ctx.get('x-fapi-interaction-id');
    const interactionId = SAFE_ID.test(givenInteraction) ? givenInteraction : requestId;
    ctx.state.requestId = requestId;
    ctx.set('X-Request-ID', requestId);
    ctx.set('x-fapi-interaction-id', interactionId);
    await storage.run({ requestId, interactionId }, next);
  };
}
