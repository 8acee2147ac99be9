/**
 * Writes the JSON rendering of every OpenAPI description in docs/openapi/ beside its YAML
 * (`x.yaml` → `x.json`). The YAML is the source; the server reads the JSON at startup (src/http/openapi.ts)
 * because parsing ~365 KB of YAML there cost ~40 MB of resident memory for the process's lifetime.
 * Run after editing a YAML file; test/http/openapi-json.test.ts fails while a rendering is stale.
 *
 *   npm run openapi:json
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { OPENAPI_DIR, openApiJson, openApiJsonFile } from '../src/http/openapi.ts';
import { parse } from 'yaml';

for (const name of readdirSync(OPENAPI_DIR).filter((n) => n.endsWith('.yaml')).sort()) {
  const source = new URL(name, OPENAPI_DIR);
  const target = openApiJsonFile(source);
  writeFileSync(target, openApiJson(parse(readFileSync(source, 'utf8'))));
  process.stdout.write(`${target.pathname}\n`);
}
