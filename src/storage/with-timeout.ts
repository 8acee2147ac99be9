/**
 * `promise`, or a rejection with Error('timeout') after `ms`: a store command bounded in time (ioredis
 * queues commands while it reconnects, so a Redis that is away would otherwise hold the caller).
 */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
