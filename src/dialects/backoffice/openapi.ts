/**
 * Serves our OpenAPI description of the back-office API (docs/openapi/backoffice.yaml) as JSON, with
 * `servers` and the OAuth token URL set to this deployment. The file is read and parsed once, when the
 * router is built: a broken file stops startup instead of failing a request.
 */
import { readFileSync } from 'node:fs';
import type { Middleware } from 'koa';
import { parse } from 'yaml';
import { BASE_PATH } from './presenters.ts';

export const OPENAPI_FILE = new URL('../../../docs/openapi/backoffice.yaml', import.meta.url);

type Document = Record<string, unknown> & {
  components?: { securitySchemes?: Record<string, { flows?: Record<string, Record<string, unknown>> }> };
};

export function loadOpenApi(file: URL = OPENAPI_FILE): Document {
  const doc = parse(readFileSync(file, 'utf8')) as unknown;
  if (doc === null || typeof doc !== 'object' || !('openapi' in doc) || !('paths' in doc)) {
    throw new Error(`${file.pathname} is not an OpenAPI document`);
  }
  return doc as Document;
}

/** The document for this deployment: API base from the issuer's origin, token URL from the issuer. */
export function openApiFor(doc: Document, issuer: string): Document {
  const out = structuredClone(doc);
  out.servers = [{ url: `${new URL(issuer).origin}${BASE_PATH}`, description: 'this server' }];
  for (const scheme of Object.values(out.components?.securitySchemes ?? {})) {
    for (const flow of Object.values(scheme.flows ?? {})) {
      if ('tokenUrl' in flow) flow.tokenUrl = `${issuer.replace(/\/+$/, '')}/token`;
    }
  }
  return out;
}

export function serveOpenApi(issuer: string, doc: Document = loadOpenApi()): Middleware {
  const body = JSON.stringify(openApiFor(doc, issuer));
  return async (ctx) => {
    ctx.type = 'application/json';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = body;
  };
}
