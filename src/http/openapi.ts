/**
 * Serving a dialect's checked-in OpenAPI description as JSON, adjusted to this deployment: `servers`
 * from the issuer's origin and the API's base path, OAuth URLs from the issuer. Each file is read and
 * parsed once, when its router is built: a broken file stops startup instead of failing a request.
 */
import { readFileSync } from 'node:fs';
import type { Middleware } from 'koa';
import { parse } from 'yaml';

export type OpenApiDocument = Record<string, unknown> & {
  components?: { securitySchemes?: Record<string, { flows?: Record<string, Record<string, unknown>> }> };
};

export function loadOpenApiFile(file: URL): OpenApiDocument {
  const doc = parse(readFileSync(file, 'utf8')) as unknown;
  if (doc === null || typeof doc !== 'object' || !('openapi' in doc) || !('paths' in doc)) {
    throw new Error(`${file.pathname} is not an OpenAPI document`);
  }
  return doc as OpenApiDocument;
}

/** The document for this deployment. */
export function deploymentOpenApi(doc: OpenApiDocument, issuer: string, basePath: string): OpenApiDocument {
  const out = structuredClone(doc);
  const oauth = issuer.replace(/\/+$/, '');
  out.servers = [{ url: `${new URL(issuer).origin}${basePath}`, description: 'this server' }];
  for (const scheme of Object.values(out.components?.securitySchemes ?? {})) {
    for (const flow of Object.values(scheme.flows ?? {})) {
      if ('tokenUrl' in flow) flow.tokenUrl = `${oauth}/token`;
      if ('authorizationUrl' in flow) flow.authorizationUrl = `${oauth}/authorize`;
    }
  }
  return out;
}

export function serveOpenApiDocument(doc: OpenApiDocument, issuer: string, basePath: string): Middleware {
  const body = JSON.stringify(deploymentOpenApi(doc, issuer, basePath));
  return async (ctx) => {
    ctx.type = 'application/json';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = body;
  };
}
