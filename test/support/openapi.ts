/**
 * Validates API responses against an OpenAPI 3.0 description (e.g. the Open Payments NextGenPSD2 spec in
 * ../shared/specs): finds the operation by path and method, the response by status, and checks the body
 * against its `application/json` schema with ajv.
 *
 * OpenAPI 3.0 schemas are not quite JSON Schema, so the document is converted once:
 *  - `nullable: true` → the type (or the schema) also admits null;
 *  - `exclusiveMinimum/Maximum: true|false` (draft-04 booleans) → draft-07 numbers, or dropped;
 *  - `example` dropped;
 *  - `oneOf` → `anyOf`: the Berlin Group specs use oneOf for alternatives that overlap (any object with a
 *    scaStatus matches all four update-PSU-data responses), which as JSON Schema no body could satisfy.
 * `$ref`s are resolved by ajv inside the converted document. A response without `content` must have no body.
 * A 405 for a method the path does not define is checked against the 405 its defined operations declare.
 */
import { AssertionError } from 'node:assert';
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';

type Json = Record<string, unknown>;

interface LoadedSpec {
  doc: Json;
  ajv: Ajv;
  id: string;
  /** the path part of servers[0].url, stripped from request paths (e.g. /psd2) */
  basePath: string;
  routes: Array<{ template: string; pattern: RegExp }>;
  compiled: Map<string, ValidateFunction>;
}

const specs = new Map<string, LoadedSpec>();
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

// ajv-formats is CommonJS with a default export
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

export function loadSpec(specPath: string | URL): LoadedSpec {
  const key = String(specPath);
  const cached = specs.get(key);
  if (cached) return cached;
  const raw = parse(readFileSync(specPath, 'utf8')) as Json;
  const doc = convert(raw, null) as Json;
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, validateFormats: true });
  addFormats(ajv);
  // OpenAPI-only format names ajv-formats does not know
  ajv.addFormat('url', { type: 'string', validate: (s: string) => URL.canParse(s) || s.startsWith('/') });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  const id = `urn:openapi:${specs.size}`;
  ajv.addSchema(doc, id);
  const servers = (doc.servers as Array<{ url: string }> | undefined) ?? [];
  const basePath = servers[0] ? new URL(servers[0].url, 'http://x').pathname.replace(/\/+$/, '') : '';
  const routes = Object.keys((doc.paths as Json) ?? {}).map((template) => ({
    template,
    pattern: new RegExp(`^${template.split(/\{[^}]+\}/).map(escapeRegExp).join('[^/]+')}/?$`),
  }));
  const loaded: LoadedSpec = { doc, ajv, id, basePath, routes, compiled: new Map() };
  specs.set(key, loaded);
  return loaded;
}

export interface ResponseCheck {
  valid: boolean;
  errors: string[];
  /** the spec path template that matched */
  template?: string;
  /** the media type the spec gives the response (absent: no body) */
  mediaType?: string;
}

/** Checks a response; never throws for a mismatch (see validateResponse for the asserting form). */
export function checkResponse(specPath: string | URL, path: string, method: string, status: number, body: unknown): ResponseCheck {
  const spec = loadSpec(specPath);
  const route = findRoute(spec, path);
  if (!route) return { valid: false, errors: [`no path in the spec matches ${path}`] };
  const pathItem = (spec.doc.paths as Json)[route.template] as Json;
  let opMethod = method.toLowerCase();
  // a method the path does not have is answered 405: that answer is described on the path's operations
  if (!(opMethod in pathItem) && status === 405) {
    opMethod = HTTP_METHODS.find((m) => ((pathItem[m] as Json | undefined)?.responses as Json | undefined)?.['405']) ?? opMethod;
  }
  const operation = pathItem[opMethod] as Json | undefined;
  if (!operation) return { valid: false, errors: [`${method.toUpperCase()} ${route.template} is not in the spec`], template: route.template };
  const responses = (operation.responses ?? {}) as Json;
  const pointerBase = `#/paths/${pointerEscape(route.template)}/${opMethod}/responses`;
  const statusKey = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => k in responses);
  if (!statusKey) return { valid: false, errors: [`status ${status} is not a response of ${method.toUpperCase()} ${route.template}`], template: route.template };

  let response = responses[statusKey] as Json;
  let pointer = `${pointerBase}/${pointerEscape(statusKey)}`;
  while (typeof response.$ref === 'string') {
    pointer = response.$ref;
    response = resolvePointer(spec.doc, response.$ref) as Json;
  }
  const content = response.content as Json | undefined;
  if (!content) {
    const empty = body === undefined || body === null || body === '';
    return empty
      ? { valid: true, errors: [], template: route.template }
      : { valid: false, errors: [`status ${status} has no body in the spec, got ${JSON.stringify(body).slice(0, 200)}`], template: route.template };
  }
  // `application/json`, or with parameters (Open Finance Brasil: `application/json; charset=utf-8`)
  // (or `application/jwt`: signed messages, checked after the caller verified and decoded the JWS)
  const mediaType =
    Object.keys(content).find((k) => k === 'application/json') ??
    Object.keys(content).find((k) => k.startsWith('application/json;')) ??
    Object.keys(content).find((k) => k === 'application/jwt');
  const media = mediaType ? (content[mediaType] as Json | undefined) : undefined;
  if (!mediaType || !media?.schema) return { valid: false, errors: [`status ${status} has no application/json schema`], template: route.template };

  const schemaPointer = `${pointer}/content/${pointerEscape(mediaType)}/schema`;
  let validate = spec.compiled.get(schemaPointer);
  if (!validate) {
    validate = spec.ajv.compile({ $ref: `${spec.id}${schemaPointer}` });
    spec.compiled.set(schemaPointer, validate);
  }
  const valid = validate(body) as boolean;
  return {
    valid,
    mediaType,
    errors: valid ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`),
    template: route.template,
  };
}

/** Asserts that `body` is what the spec allows for `method path` answered with `status`. */
export function validateResponse(specPath: string | URL, path: string, method: string, status: number, body: unknown): void {
  const result = checkResponse(specPath, path, method, status, body);
  if (!result.valid) {
    throw new AssertionError({
      message: `${method.toUpperCase()} ${path} → ${status} does not conform to ${String(specPath).split('/').pop()}:\n  ${result.errors.join('\n  ')}\nbody: ${JSON.stringify(body)}`,
    });
  }
}

/** The schema of a named component, for validating request bodies and the like. */
export function validateSchema(specPath: string | URL, schemaName: string, value: unknown): string[] {
  const spec = loadSpec(specPath);
  const pointer = `#/components/schemas/${pointerEscape(schemaName)}`;
  let validate = spec.compiled.get(pointer);
  if (!validate) {
    validate = spec.ajv.compile({ $ref: `${spec.id}${pointer}` });
    spec.compiled.set(pointer, validate);
  }
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(value)'} ${e.message ?? ''}`);
}

// ── helpers ──────────────────────────────────────────────────────────────────────────────────────────

function findRoute(spec: LoadedSpec, path: string) {
  const pathname = path.split('?')[0]!;
  const candidates = [pathname];
  if (spec.basePath && pathname.startsWith(`${spec.basePath}/`)) candidates.unshift(pathname.slice(spec.basePath.length));
  for (const candidate of candidates) {
    const exact = spec.routes.find((r) => r.template === candidate);
    if (exact) return exact;
    // prefer the template with the fewest parameters (literal segments win)
    const matches = spec.routes.filter((r) => r.pattern.test(candidate));
    matches.sort((a, b) => (a.template.match(/\{/g)?.length ?? 0) - (b.template.match(/\{/g)?.length ?? 0));
    if (matches[0]) return matches[0];
  }
  return undefined;
}

/** OpenAPI 3.0 → JSON Schema (draft-07) for every node; `parentKey` protects property names. */
function convert(node: unknown, parentKey: string | null): unknown {
  if (Array.isArray(node)) return node.map((item) => convert(item, null));
  if (node === null || typeof node !== 'object') return node;
  const inPropertyMap = parentKey === 'properties' || parentKey === 'paths' || parentKey === 'schemas' || parentKey === 'responses';
  const out: Json = {};
  for (const [key, value] of Object.entries(node as Json)) {
    if (!inPropertyMap && key === 'example') continue;
    if (!inPropertyMap && key === 'oneOf') {
      out.anyOf = convert(value, key);
      continue;
    }
    out[key] = convert(value, key);
  }
  if (inPropertyMap) return out;

  for (const [bool, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (typeof out[bool] === 'boolean') {
      if (out[bool] === true && typeof out[bound] === 'number') {
        out[bool] = out[bound];
        delete out[bound];
      } else {
        delete out[bool];
      }
    }
  }
  if (out.nullable === true) {
    delete out.nullable;
    if (typeof out.type === 'string') {
      out.type = [out.type, 'null'];
      if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
      return out;
    }
    return { anyOf: [out, { type: 'null' }] };
  }
  if (out.nullable === false) delete out.nullable;
  return out;
}

function resolvePointer(doc: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported: ${ref}`);
  return ref
    .slice(2)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((current, part) => (current as Json | undefined)?.[part], doc);
}

/** A JSON-pointer segment, percent-encoded for use in a URI fragment ({consentId} → %7BconsentId%7D). */
function pointerEscape(segment: string): string {
  return encodeURIComponent(segment.replace(/~/g, '~0').replace(/\//g, '~1'));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
