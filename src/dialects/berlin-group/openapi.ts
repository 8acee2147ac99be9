/**
 * Our OpenAPI description of the consent API: docs/openapi/berlin-group-consent.yaml, a checked-in subset
 * of the Open Payments NextGenPSD2 1.3.3 spec, served as JSON for this deployment.
 */
import type { Middleware } from 'koa';
import { CURRENCY_CODES } from '../../consent/currency.ts';
import { deploymentOpenApi, loadOpenApiFile, serveOpenApiDocument, type OpenApiDocument } from '../../http/openapi.ts';

export const OPENAPI_FILE = new URL('../../../docs/openapi/berlin-group-consent.yaml', import.meta.url);
const BASE_PATH = '/psd2';

export const loadOpenApi = (file: URL = OPENAPI_FILE): OpenApiDocument => loadOpenApiFile(file);
export const openApiFor = (doc: OpenApiDocument, issuer: string): OpenApiDocument => deploymentOpenApi(doc, issuer, BASE_PATH);
export const serveOpenApi = (issuer: string, doc: OpenApiDocument = loadOpenApi()): Middleware => serveOpenApiDocument(doc, issuer, BASE_PATH);

/**
 * The checked-in file with what this deployment's configuration decides filled in, so that the served
 * description says exactly what the server checks: the ISO 4217 list, the bank's maximum frequencyPerDay,
 * the SCA method ids it offers, the registered redirect URIs.
 */
export function configuredOpenApi(
  config: {
    consent: { maxFrequencyPerDay: number; scaMethods: ReadonlyArray<{ authenticationMethodId: string }> };
    clients: ReadonlyArray<{ redirect_uris?: readonly string[] }>;
  },
  doc: OpenApiDocument = loadOpenApi(),
): OpenApiDocument {
  const out = structuredClone(doc) as OpenApiDocument & { components: { schemas: Record<string, any> }; paths: Record<string, any> };
  const schemas = out.components.schemas;
  schemas.assentCurrencyCode.enum = [...CURRENCY_CODES].sort();
  schemas.assentConsentRequest.oneOf[0].properties.frequencyPerDay.maximum = config.consent.maxFrequencyPerDay;
  // TPP-Redirect-URI: one of the calling TPP's registered redirect URIs, so one of all TPPs' (public URLs)
  const redirectUris = [...new Set(config.clients.flatMap((c) => c.redirect_uris ?? []))].sort();
  const redirectHeader = (out.components as { parameters?: Record<string, { schema: Record<string, unknown> }> }).parameters?.['TPP-Redirect-URI'];
  if (redirectHeader && redirectUris.length > 0) redirectHeader.schema.enum = redirectUris;
  const put = out.paths['/consent/v1/consents/{consentId}/authorisations/{authorisationId}'].put;
  put.requestBody.content['application/json'].schema.properties.authenticationMethodId = {
    type: 'string',
    enum: config.consent.scaMethods.map((m) => m.authenticationMethodId),
  };
  return out;
}
