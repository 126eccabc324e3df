import { listRoutes } from '../../src/app';
import { loadOpenApiDocument } from '../../src/platform/openapi';
import { startTestServer, type TestServer } from '../helpers/server';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** /api/users/:id → /api/users/{id} */
const toOpenApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

describe('docs/openapi.yaml matches the mounted routes', () => {
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
