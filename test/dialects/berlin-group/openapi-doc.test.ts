/**
 * docs/openapi/berlin-group-consent.yaml stays what it claims to be: its schemas are the Open Payments
 * 1.3.3 schemas verbatim, its operations are the spec's operations, and it describes exactly the routes
 * the router serves.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { configSchema, type AssentConfig } from '../../../config/schema.ts';
import type { ConsentService } from '../../../src/application/consents.ts';
import { createLogger } from '../../../src/log.ts';
import type { OAuthService } from '../../../src/oidc/oauth.ts';
import { berlinGroupRouter } from '../../../src/dialects/berlin-group/routes.ts';
import { loadOpenApi, openApiFor, OPENAPI_FILE } from '../../../src/dialects/berlin-group/openapi.ts';
import { loadSpec } from '../../support/openapi.ts';
import { OPEN_PAYMENTS_SPEC, OUR_SPEC } from './helpers.ts';

type Json = Record<string, any>;
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const ours = parse(readFileSync(OUR_SPEC, 'utf8')) as Json;
const theirs = parse(readFileSync(OPEN_PAYMENTS_SPEC, 'utf8')) as Json;

describe('our OpenAPI description', () => {
  test('the router serves the checked-in file', () => {
    assert.equal(OPENAPI_FILE.href, OUR_SPEC.href);
    const served = openApiFor(loadOpenApi(), 'https://bank.example/connect');
    assert.deepEqual(served.servers, [{ url: 'https://bank.example/psd2', description: 'this server' }]);
    assert.equal((served as Json).components.securitySchemes.oAuth2.flows.clientCredentials.tokenUrl, 'https://bank.example/connect/token');
    assert.deepEqual((served as Json).paths, ours.paths);
  });

  test('its schemas are the Open Payments schemas, verbatim, besides Assent\'s own (assent*)', () => {
    const names = Object.keys(ours.components.schemas).filter((n) => !n.startsWith('assent'));
    assert.ok(names.length > 40);
    for (const name of names) assert.deepEqual(ours.components.schemas[name], theirs.components.schemas[name], name);
    for (const name of Object.keys(ours.components.schemas).filter((n) => n.startsWith('assent'))) {
      assert.equal(theirs.components.schemas[name], undefined, `${name} must not shadow an upstream schema`);
    }
  });

  test('every $ref resolves and every response schema compiles', () => {
    const refs = JSON.stringify(ours).match(/"\$ref":"[^"]+"/g) ?? [];
    for (const ref of refs) {
      const pointer = ref.slice('"$ref":"#/'.length, -1).split('/');
      assert.ok(pointer.reduce<Json | undefined>((node, key) => node?.[key], ours), `unresolved ${ref}`);
    }
    const spec = loadSpec(OUR_SPEC);
    for (const [path, item] of Object.entries(ours.paths as Json)) {
      for (const method of METHODS.filter((m) => item[m])) {
        for (const status of Object.keys(item[method].responses)) {
          let pointer = `#/paths/${encodeURIComponent(path.replace(/\//g, '~1'))}/${method}/responses/${status}`;
          let response = item[method].responses[status];
          while (response.$ref) {
            pointer = response.$ref;
            response = ours.components.responses[response.$ref.split('/').pop()];
          }
          if (response.content?.['application/json']?.schema) {
            const ref = `${spec.id}${pointer}/content/application~1json/schema`;
            assert.doesNotThrow(() => spec.ajv.compile({ $ref: ref }), `${method} ${path} ${status}`);
          }
        }
      }
    }
  });

  test('its operations are operations of the Open Payments spec (openapi.json aside)', () => {
    for (const [path, item] of Object.entries(ours.paths as Json)) {
      if (path.endsWith('/openapi.json')) continue;
      for (const method of METHODS.filter((m) => item[m])) {
        assert.ok(theirs.paths[path]?.[method], `${method.toUpperCase()} ${path} is not in the Open Payments spec`);
        assert.equal(item[method].operationId, theirs.paths[path][method].operationId);
      }
    }
  });

  test('it describes exactly the routes the router serves', () => {
    const config: AssentConfig = { ...configSchema.parse({}), profile: 'demo' };
    const router = berlinGroupRouter({
      consents: {} as ConsentService,
      oauth: {} as OAuthService,
      config,
      log: createLogger('silent'),
    });
    const served = new Set<string>();
    for (const layer of router.stack) {
      const methods = layer.methods.filter((m) => m !== 'HEAD');
      // the 405 / 404 catch-alls answer every method
      if (methods.length !== 1) continue;
      const path = String(layer.path).replace(/^\/psd2/, '').replace(/:(\w+)/g, '{$1}');
      served.add(`${methods[0]} ${path}`);
    }
    const described = new Set<string>();
    for (const [path, item] of Object.entries(ours.paths as Json)) {
      for (const method of METHODS.filter((m) => item[m])) described.add(`${method.toUpperCase()} ${path}`);
    }
    assert.deepEqual([...served].sort(), [...described].sort());
  });
});
