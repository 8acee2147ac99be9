/** Our OpenAPI description of the back-office API (docs/openapi/backoffice.yaml), served as JSON for this deployment. */
import type { Middleware } from 'koa';
import { deploymentOpenApi, loadOpenApiFile, serveOpenApiDocument, type OpenApiDocument } from '../../http/openapi.ts';
import { BASE_PATH } from './presenters.ts';

export const OPENAPI_FILE = new URL('../../../docs/openapi/backoffice.yaml', import.meta.url);

export const loadOpenApi = (file: URL = OPENAPI_FILE): OpenApiDocument => loadOpenApiFile(file);
export const openApiFor = (doc: OpenApiDocument, issuer: string): OpenApiDocument => deploymentOpenApi(doc, issuer, BASE_PATH);
export const serveOpenApi = (issuer: string, doc: OpenApiDocument = loadOpenApi()): Middleware => serveOpenApiDocument(doc, issuer, BASE_PATH);
