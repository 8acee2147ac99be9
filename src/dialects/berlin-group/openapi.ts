/**
 * Our OpenAPI description of the consent API: docs/openapi/berlin-group-consent.yaml, a checked-in subset
 * of the Open Payments NextGenPSD2 1.3.3 spec, served as JSON for this deployment.
 */
import type { Middleware } from 'koa';
import { deploymentOpenApi, loadOpenApiFile, serveOpenApiDocument, type OpenApiDocument } from '../../http/openapi.ts';

export const OPENAPI_FILE = new URL('../../../docs/openapi/berlin-group-consent.yaml', import.meta.url);
const BASE_PATH = '/psd2';

export const loadOpenApi = (file: URL = OPENAPI_FILE): OpenApiDocument => loadOpenApiFile(file);
export const openApiFor = (doc: OpenApiDocument, issuer: string): OpenApiDocument => deploymentOpenApi(doc, issuer, BASE_PATH);
export const serveOpenApi = (issuer: string, doc: OpenApiDocument = loadOpenApi()): Middleware => serveOpenApiDocument(doc, issuer, BASE_PATH);
