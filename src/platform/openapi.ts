import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';

/** The root document: info, security schemes and the components every module shares. */
export const OPENAPI_PATH = path.resolve(__dirname, '../../docs/openapi.yaml');
/** One file per module (`<module>.yaml`) with that module's paths and components. */
export const OPENAPI_MODULES_DIR = path.resolve(__dirname, '../../docs/openapi');

type Document = Record<string, unknown> & {
  paths?: Record<string, unknown>;
  components?: Record<string, Record<string, unknown>>;
  tags?: unknown[];
};

/** Adds `part`'s entries to `into`, refusing a name both define (two modules must not claim one path or schema). */
function mergeNamed(into: Record<string, unknown>, part: Record<string, unknown> | undefined, what: string, file: string): void {
  for (const [name, value] of Object.entries(part ?? {})) {
    if (name in into) throw new Error(`OpenAPI: ${what} "${name}" in ${file} is defined twice`);
    into[name] = value;
  }
}

/**
 * Bundles docs/openapi.yaml and docs/openapi/*.yaml into the single document served at
 * /api/openapi.json and /api/docs and checked by the tests. Read once at start.
 */
export async function loadOpenApiDocument(file = OPENAPI_PATH, modulesDir = OPENAPI_MODULES_DIR): Promise<Record<string, unknown>> {
  const root = YAML.parse(await readFile(file, 'utf8')) as Document;
  root.paths ??= {};
  root.components ??= {};
  const parts = (await readdir(modulesDir).catch(() => [] as string[])).filter((name) => name.endsWith('.yaml')).sort();
  for (const name of parts) {
    const part = YAML.parse(await readFile(path.join(modulesDir, name), 'utf8')) as Document;
    mergeNamed(root.paths, part.paths, 'path', name);
    for (const [kind, entries] of Object.entries(part.components ?? {})) {
      root.components[kind] ??= {};
      mergeNamed(root.components[kind], entries, `component ${kind}`, name);
    }
    if (part.tags) root.tags = [...(root.tags ?? []), ...part.tags];
  }
  return root;
}
