import { listRoutes } from '../../src/app';
import { loadOpenApiDocument } from '../../src/platform/openapi';
import { startTestServer, type TestServer } from '../helpers/server';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** /api/users/:id → /api/users/{id} */
const toOpenApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

describe('the OpenAPI document (docs/openapi.yaml + docs/openapi/*.yaml) matches the mounted routes', () => {
  let app: TestServer;
  beforeAll(async () => {
    app = await startTestServer();
  });
  afterAll(() => app.close());

  it('documents every mounted route and lists no route that does not exist', async () => {
    const spec = await loadOpenApiDocument();
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(spec.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(item)) {
        if (METHODS.includes(method)) documented.add(`${method.toUpperCase()} ${path}`);
      }
    }
    const mounted = new Set(
      listRoutes(app.server.modules).map((route) => `${route.method.toUpperCase()} ${toOpenApiPath(route.path)}`),
    );
    expect(mounted.size).toBeGreaterThan(0);
    const undocumented = [...mounted].filter((route) => !documented.has(route)).sort();
    const phantom = [...documented].filter((route) => !mounted.has(route)).sort();
    expect({ undocumented, phantom }).toEqual({ undocumented: [], phantom: [] });
  });

  it('gives every operation a unique operationId and at least one response', async () => {
    const spec = await loadOpenApiDocument();
    const ids: string[] = [];
    for (const item of Object.values(spec.paths as Record<string, Record<string, { operationId?: string; responses?: object }>>)) {
      for (const [method, operation] of Object.entries(item)) {
        if (!METHODS.includes(method)) continue;
        expect(operation.operationId).toEqual(expect.any(String));
        expect(Object.keys(operation.responses ?? {}).length).toBeGreaterThan(0);
        ids.push(operation.operationId as string);
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('the OpenAPI bundle', () => {
  it('merges every module file and resolves every $ref it holds', async () => {
    const spec = await loadOpenApiDocument();
    const text = JSON.stringify(spec);
    const refs = new Set([...text.matchAll(/"#\/components\/(\w+)\/([\w.-]+)"/g)].map((m) => `${m[1]}/${m[2]}`));
    const components = spec.components as Record<string, Record<string, unknown>>;
    const dangling = [...refs].filter((ref) => {
      const [kind, name] = ref.split('/') as [string, string];
      return !components[kind]?.[name];
    });
    expect(refs.size).toBeGreaterThan(20);
    expect(dangling).toEqual([]);
  });

  it('refuses two module files that define the same path', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'openapi-'));
    try {
      await writeFile(path.join(dir, 'root.yaml'), 'openapi: 3.1.0\ninfo: { title: t, version: "1" }\npaths: {}\n');
      await mkdirAndWrite(dir, 'a.yaml', 'paths:\n  /api/x:\n    get: { operationId: a, responses: { "200": { description: ok } } }\n');
      await mkdirAndWrite(dir, 'b.yaml', 'paths:\n  /api/x:\n    post: { operationId: b, responses: { "200": { description: ok } } }\n');
      await expect(loadOpenApiDocument(path.join(dir, 'root.yaml'), path.join(dir, 'modules'))).rejects.toThrow(/path "\/api\/x" in b.yaml is defined twice/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    async function mkdirAndWrite(base: string, name: string, text: string) {
      const { mkdir } = await import('node:fs/promises');
      await mkdir(path.join(base, 'modules'), { recursive: true });
      await writeFile(path.join(base, 'modules', name), text);
    }
  });
});
