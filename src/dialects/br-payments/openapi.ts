/**
 * The Open Finance Brasil Payments API 4.0.0 description, checked in unchanged as
 * docs/openapi/brazil-payments-4.0.0.yaml (the upstream spec we conform to), served as JSON.
 */
import type { Middleware } from 'koa';
import { loadOpenApiFile, serveOpenApiDocument } from '../../http/openapi.ts';

export const OPENAPI_FILE = new URL('../../../docs/openapi/brazil-payments-4.0.0.yaml', import.meta.url);

export const serveOpenApi = (issuer: string): Middleware => serveOpenApiDocument(loadOpenApiFile(OPENAPI_FILE), issuer, '/open-banking/payments/v4');
