/**
 * Structured JSON logs (pino). Every line written while a request is handled carries its request id,
 * taken from the request context. Never log secrets, tokens or personal data: log ids and outcomes;
 * the redact list is a safety net, not the policy.
 */
import { pino, type Logger } from 'pino';
import { currentRequest } from './http/request-context.ts';

export type { Logger };

export function createLogger(level: string = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'assent' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin() {
        const request = currentRequest();
        return request ? { requestId: request.requestId } : {};
      },
      redact: {
        paths: [
          'password',
          '*.password',
          'client_secret',
          '*.client_secret',
          'authorization',
          '*.authorization',
          'headers.authorization',
          'headers.cookie',
          'access_token',
          'refresh_token',
          'code',
          '*.access_token',
          '*.refresh_token',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
