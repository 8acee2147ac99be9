/**
 * The Open Finance Brasil Consents API 3.3.1 description, checked in unchanged as
 * docs/openapi/brazil-consents-3.3.1.yaml (the upstream spec we conform to), served as JSON.
 */
import type { Middleware } from 'koa';
import { loadOpenApiFile, serveOpenApiDocument } from '../../http/openapi.ts';

export const OPENAPI_FILE = new URL('../../../docs/openapi/brazil-consents-3.3.1.yaml', import.meta.url);

export const serveOpenApi = (issuer: string): Middleware => serveOpenApiDocument(loadOpenApiFile(OPENAPI_FILE), issuer, '/open-banking/consents/v3');
