/**
 * The fallback route of a path for the methods it does not serve: `refuse(allow)` builds the dialect's
 * own 405 error (each dialect renders it in its format), `allow` being the `Allow` header value (HEAD comes
 * with GET).
 */
import type { Middleware } from 'koa';

export function methodNotAllowed(methods: readonly string[], refuse: (allow: string) => Error): Middleware {
  const allow = [...methods, ...(methods.includes('GET') ? ['HEAD'] : [])].join(', ');
  return async () => {
    throw refuse(allow);
  };
}
