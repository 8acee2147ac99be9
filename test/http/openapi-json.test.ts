/**
 * The server reads the JSON renderings of docs/openapi/*.yaml (src/http/openapi.ts): each one exists and
 * says exactly what its YAML says, so editing a YAML without `npm run openapi:json` fails here.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { OPENAPI_DIR, loadOpenApiFile, openApiJson, openApiJsonFile } from '../../src/http/openapi.ts';

const sources = readdirSync(OPENAPI_DIR).filter((n) => n.endsWith('.yaml')).sort();

describe('OpenAPI JSON renderings', () => {
  test('every description in docs/openapi/ has one', () => {
    assert.ok(sources.length >= 4, sources.join(', '));
    const renderings = readdirSync(OPENAPI_DIR).filter((n) => n.endsWith('.json')).sort();
    assert.deepEqual(renderings, sources.map((n) => n.replace(/\.yaml$/, '.json')), 'a JSON file without its YAML, or the other way round');
  });

  for (const name of sources) {
    test(`${name}: the JSON is its YAML, as npm run openapi:json writes it`, () => {
      const source = new URL(name, OPENAPI_DIR);
      const expected = openApiJson(parse(readFileSync(source, 'utf8')));
      assert.ok(readFileSync(openApiJsonFile(source), 'utf8') === expected, `docs/openapi/${name.replace(/\.yaml$/, '.json')} is stale: run npm run openapi:json`);
      assert.deepEqual(loadOpenApiFile(source), JSON.parse(expected));
    });
  }

  test('the loader reads the rendering beside the YAML, and refuses what is not an OpenAPI document', () => {
    const dir = mkdtempSync(join(tmpdir(), 'assent-openapi-'));
    try {
      const yaml = pathToFileURL(join(dir, 'api.yaml'));
      writeFileSync(yaml, 'not: read\n');
      writeFileSync(join(dir, 'api.json'), JSON.stringify({ openapi: '3.0.1', paths: { '/x': {} } }));
      assert.deepEqual(loadOpenApiFile(yaml), { openapi: '3.0.1', paths: { '/x': {} } });
      writeFileSync(join(dir, 'api.json'), JSON.stringify({ openapi: '3.0.1' }));
      assert.throws(() => loadOpenApiFile(yaml), /api\.json is not an OpenAPI document/);
      assert.throws(() => loadOpenApiFile(pathToFileURL(join(dir, 'api.json'))), /is not a \.yaml file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
