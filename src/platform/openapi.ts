import { readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';

export const OPENAPI_PATH = path.resolve(__dirname, '../../docs/openapi.yaml');

/** Read once at start; docs/openapi.yaml is the single source for /api/openapi.json and /api/docs. */
export async function loadOpenApiDocument(file = OPENAPI_PATH): Promise<Record<string, unknown>> {
  return YAML.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
}
