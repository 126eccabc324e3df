import { loadOpenApiDocument } from '../../src/platform/openapi';
import { bodyFields, listOperations, plausibleValue, setPath, PATH_MUTATIONS, QUERY_MUTATIONS, VALUE_MUTATIONS, type Operation } from '../helpers/openapi-walk';
import { bearer, type TestUser } from '../helpers/users';
import { expectLedgerConsistent, startFinanceWorld, type FinanceWorld } from './finance-helpers';

/**
 * The platform's generated bad-input walk (tests/platform/bad-input.test.ts) stops after 40
 * failures anywhere; this one walks finance's documented routes only, as the vendor of a real
 * line and payment, so every finance route and field gets the garbage: never a 5xx, always the
 * error envelope, and the ledger still adds up afterwards.
 */
let w: FinanceWorld;
let paymentId: string;
let lineId: string;

beforeAll(async () => {
  w = await startFinanceWorld();
  await w.finance.admin.setLimit({ buyerId: w.buyer.id, vendorId: w.vendor.id, currency: 'INR', limit: 100_000, actorId: w.admin.id });
  lineId = `line:${w.buyer.id}:${w.vendor.id}:INR`;
  paymentId = '0123456789abcdef01234567';
});
afterAll(async () => {
  await w.app.close();
});

test('every finance route and field answers garbage with a client error, never a 5xx', async () => {
  const doc = (await loadOpenApiDocument()) as Parameters<typeof listOperations>[0];
  const operations = listOperations(doc).filter((op) => op.path.startsWith('/api/finance'));
  expect(operations.length).toBeGreaterThanOrEqual(10);
  const failures: string[] = [];
  const pathFor = (op: Operation, override?: { param: string; raw: string }) =>
    op.path.replace(/\{(\w+)\}/g, (_m, name: string) => (override?.param === name ? override.raw : encodeURIComponent(op.path.includes('/payments/') ? paymentId : lineId)));
  async function send(op: Operation, label: string, caller: TestUser, path: string, body?: string) {
    let req = w.app.api[op.method](path).set('Authorization', bearer(caller)).set('Idempotency-Key', `fuzz-${Math.random().toString(36).slice(2)}`);
    if (body !== undefined) req = req.set('Content-Type', 'application/json').send(body);
    const res = await req;
    if (res.status >= 500 || (res.status >= 400 && typeof res.body?.error?.code !== 'string')) failures.push(`${op.method} ${op.path} [${label}] → ${res.status} ${res.text.slice(0, 160)}`);
  }
  for (const op of operations) {
    for (const caller of [w.vendor, w.stranger]) {
      for (const param of op.pathParams) for (const raw of PATH_MUTATIONS) await send(op, `path ${param}=${raw.slice(0, 12)}`, caller, pathFor(op, { param, raw }));
      for (const { name } of op.query) for (const [label, make] of QUERY_MUTATIONS) await send(op, `query ${name} ${label}`, caller, `${pathFor(op)}?${make(name)}`);
      if (!op.body || op.body === 'multipart') continue;
      const base = plausibleValue(op.body) as Record<string, unknown>;
      for (const field of bodyFields(op.body)) {
        for (const [label, value] of VALUE_MUTATIONS) {
          for (const start of [{}, structuredClone(base)]) await send(op, `${field.path} = ${label}`, caller, pathFor(op), JSON.stringify(setPath(start, field.path, value)));
        }
      }
      for (const body of ['[]', '"x"', 'null', '{"a":']) await send(op, `body ${body}`, caller, pathFor(op), body);
    }
  }
  expect(failures).toEqual([]);
  await expectLedgerConsistent(w.app);
}, 300_000);
