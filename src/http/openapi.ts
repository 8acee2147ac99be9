/**
 * Serving a dialect's checked-in OpenAPI description as JSON, adjusted to this deployment: `servers`
 * from the issuer's origin and the API's base path, OAuth URLs from the issuer. Each file is read and
 * parsed once, when its router is built: a broken file stops startup instead of failing a request.
 *
 * The YAML files in docs/openapi/ are the source; the server reads their JSON renderings beside them
 * (`x.yaml` → `x.json`, written by `npm run openapi:json`, kept equal by test/http/openapi-json.test.ts).
 * Parsing the ~365 KB of YAML at startup made ~40 MB of garbage that stayed resident (V8 keeps the young
 * generation it grew to), and loaded the yaml package, which is only a development dependency.
 */
import { readFileSync } from 'node:fs';
import type { Middleware } from 'koa';

export type OpenApiDocument = Record<string, unknown> & {
  components?: { securitySchemes?: Record<string, { flows?: Record<string, Record<string, unknown>> }> };
};

/** where the checked-in descriptions are */
export const OPENAPI_DIR = new URL('../../docs/openapi/', import.meta.url);

/** The JSON rendering of a YAML description: the same path ending in `.json`. */
export function openApiJsonFile(yamlFile: URL): URL {
  if (!yamlFile.pathname.endsWith('.yaml')) throw new Error(`${yamlFile.pathname} is not a .yaml file`);
  return new URL(yamlFile.href.replace(/\.yaml$/, '.json'));
}

/** The text of a JSON rendering (scripts/openapi-json.ts writes it, the test compares it). */
export const openApiJson = (doc: unknown): string => `${JSON.stringify(doc, null, 2)}\n`;

/** The description in `file` (a docs/openapi/*.yaml), read from its JSON rendering. */
export function loadOpenApiFile(file: URL): OpenApiDocument {
  const jsonFile = openApiJsonFile(file);
  const doc = JSON.parse(readFileSync(jsonFile, 'utf8')) as unknown;
  if (doc === null || typeof doc !== 'object' || !('openapi' in doc) || !('paths' in doc)) {
    throw new Error(`${jsonFile.pathname} is not an OpenAPI document`);
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
