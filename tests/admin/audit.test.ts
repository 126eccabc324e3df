import { Types } from 'mongoose';
import type { Role } from '../../src/platform/auth-context';
import { csvField, csvRecord } from '../../src/modules/admin';
import { loadOpenApiDocument } from '../../src/platform/openapi';
import { PermanentJobError } from '../../src/platform/jobs';
import { listOperations, bodyFields, plausibleValue, setPath, QUERY_MUTATIONS, VALUE_MUTATIONS, PATH_MUTATIONS } from '../helpers/openapi-walk';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, createUser, type TestUser } from '../helpers/users';
import { adminModuleOf, usersByRole } from './helpers';

/** An RFC 4180 reader, to check the export's quoting by parsing it back. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 1;
    } else field += c;
  }
  return rows;
}

describe('CSV fields (RFC 4180)', () => {
  it('quotes commas, quotes, CR and LF, doubles quotes, and leaves plain text alone', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(12)).toBe('12');
    expect(csvField(new Date('2026-01-02T03:04:05.000Z'))).toBe('2026-01-02T03:04:05.000Z');
    expect(csvField({ status: 'a,"b"' })).toBe('"{""status"":""a,\\""b\\""""}"');
    expect(csvRecord(['a', 'b,c', ''])).toBe('a,"b,c",\r\n');
    const tricky = ['x,y', 'he said "no"', 'line1\r\nline2', '', 'ünïcødé'];
    expect(parseCsv(csvRecord(tricky))).toEqual([tricky]);
  });

  it('defuses spreadsheet formulas', () => {
    expect(csvField('=HYPERLINK("http://evil")')).toBe(`"'=HYPERLINK(""http://evil"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
  });
});

describe('the admin audit trail', () => {
  let app: TestServer;
  let people: Record<Role, TestUser>;
  const targets: TestUser[] = [];

  beforeAll(async () => {
    app = await startTestServer({ env: { RATE_LIMIT_MAX: '1000000', AUTH_RATE_LIMIT_MAX: '1000000' } });
    people = await usersByRole(app);
    for (let i = 0; i < 3; i += 1) targets.push(await createUser(app));
    const reasons = ['Reason, with a comma', 'He said "stop"', 'Two\nlines'];
    for (const [i, target] of targets.entries()) {
      await app.api.post(`/api/admin/users/${target.id}/suspend`).set('Authorization', bearer(people.admin)).send({ reason: reasons[i] }).expect(200);
    }
    await app.api.patch(`/api/admin/users/${targets[0]?.id}/role`).set('Authorization', bearer(people.super_admin)).send({ role: 'vendor', reason: 'Vendor KYC' }).expect(200);
  }, 120_000);
  afterAll(() => app.close());

  const get = (path: string, who: TestUser = people.admin) => app.api.get(path).set('Authorization', bearer(who));

  it('lists entries newest first, filtered by action, actor and target, in cursor pages', async () => {
    const all = await get('/api/admin/audit');
    expect(all.status).toBe(200);
    expect(all.body.data.map((e: { action: string }) => e.action)).toEqual(['user.role_change', 'user.suspend', 'user.suspend', 'user.suspend']);
    const suspends = await get('/api/admin/audit?action=user.suspend&limit=2');
    expect(suspends.body.data).toHaveLength(2);
    const rest = await get(`/api/admin/audit?action=user.suspend&limit=2&cursor=${suspends.body.page.nextCursor}`);
    expect(rest.body.data).toHaveLength(1);
    expect(rest.body.page.nextCursor).toBeNull();
    const ids = [...suspends.body.data, ...rest.body.data].map((e: { target: { id: string } }) => e.target.id);
    expect(ids.sort()).toEqual(targets.map((t) => t.id).sort());
    expect((await get(`/api/admin/audit?actorId=${people.super_admin.id}`)).body.data).toHaveLength(1);
    expect((await get(`/api/admin/audit?targetId=${targets[0]?.id}`)).body.data).toHaveLength(2);
    expect((await get('/api/admin/audit?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z')).body.data).toHaveLength(0);
    expect((await get('/api/admin/audit?from=soon')).status).toBe(400);
    expect((await get('/api/admin/audit?cursor=abc')).status).toBe(400);
  });

  it('no route edits or deletes an entry, and the model refuses it too', async () => {
    const entry = (await get('/api/admin/audit?limit=1')).body.data[0];
    for (const method of ['put', 'patch', 'delete'] as const) {
      const res = await app.api[method](`/api/admin/audit/${entry.id}`).set('Authorization', bearer(people.super_admin)).send({ reason: 'tamper' });
      expect(res.status).toBe(404);
    }
    const model = app.ctx.mongo.model('AdminAudit');
    await expect(model.updateOne({ _id: new Types.ObjectId(entry.id) }, { $set: { reason: 'edited' } })).rejects.toThrow(/append-only/);
    await expect(model.deleteOne({ _id: new Types.ObjectId(entry.id) })).rejects.toThrow(/append-only/);
    await expect(model.findOneAndUpdate({ _id: new Types.ObjectId(entry.id) }, { $set: { reason: 'edited' } })).rejects.toThrow(/append-only/);
    expect((await get('/api/admin/audit?limit=1')).body.data[0]).toEqual(entry);
  });

  it('exports CSV that parses back to the same entries, and audits the export', async () => {
    const res = await get('/api/admin/audit/export?action=user.suspend');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="audit-\d{4}-\d{2}-\d{2}\.csv"$/);
    const rows = parseCsv(res.text);
    expect(rows[0]).toEqual(['id', 'at', 'actorId', 'actorRole', 'action', 'targetType', 'targetId', 'reason', 'ip', 'userAgent', 'requestId', 'before', 'after']);
    expect(rows).toHaveLength(4);
    expect(rows.slice(1).map((r) => r[7]).sort()).toEqual(['He said "stop"', 'Reason, with a comma', 'Two\nlines']);
    expect(rows.slice(1).every((r) => r.length === 13 && JSON.parse(r[11] as string).status === 'active' && JSON.parse(r[12] as string).status === 'suspended')).toBe(true);
    const exportEntry = (await get('/api/admin/audit?action=audit.export')).body.data[0];
    expect(exportEntry).toMatchObject({ actor: { id: people.admin.id }, target: { type: 'audit' }, after: { filters: { action: 'user.suspend' } } });
    // Users and vendors get nothing.
    expect((await get('/api/admin/audit/export', people.vendor)).status).toBe(403);
  });

  it('lists this process start among system events, and failed jobs', async () => {
    const events = await get('/api/admin/system/events?kind=process.started');
    expect(events.status).toBe(200);
    expect(events.body.data[0]).toMatchObject({ kind: 'process.started', details: { pid: process.pid } });
    const failed = await get('/api/admin/jobs/failed?limit=5');
    expect(failed.status).toBe(200);
    expect(Array.isArray(failed.body.data)).toBe(true);
    expect((await get('/api/admin/system/events?kind=reboot')).status).toBe(400);
    // A job that fails for good is copied into the system events once, however often the watch runs.
    const queue = app.ctx.jobs.queue<{ n: number }>('h16-probe', () => {
      throw new PermanentJobError('the probe always fails');
    });
    await queue.enqueue('probe-1', { n: 1 });
    for (let i = 0; i < 100 && !(await app.ctx.jobs.listFailed({ queue: 'h16-probe' })).length; i += 1) await new Promise((r) => setTimeout(r, 100));
    const admin = adminModuleOf(app);
    expect(await admin.watchFailedJobs()).toBe(1);
    expect(await admin.watchFailedJobs()).toBe(0);
    const jobEvents = await get('/api/admin/system/events?kind=job.failed');
    expect(jobEvents.body.data).toEqual([expect.objectContaining({ kind: 'job.failed', details: expect.objectContaining({ queue: 'h16-probe', key: 'probe-1', reason: 'the probe always fails' }) })]);
    expect((await get('/api/admin/jobs/failed?queue=h16-probe')).body.data).toEqual([expect.objectContaining({ queue: 'h16-probe', key: 'probe-1' })]);
  });

  it('serves the analytics reads, and refuses unknown metrics and reversed periods', async () => {
    // The default period is the last 30 days: 31 day buckets, the first and last partial.
    const recent = await get('/api/admin/analytics/timeseries?metric=user.registered&interval=day');
    expect(recent.status).toBe(200);
    expect(recent.body.data.points).toHaveLength(31);
    // Once today is rolled up, today's signups equal the accounts MongoDB holds from today.
    const analytics = app.server.modules.find((m) => m.name === 'analytics') as unknown as { flush(): Promise<boolean>; rollups: { rollupDay(day: string): Promise<number> } };
    await app.ctx.events.drain();
    await analytics.flush();
    const today = new Date().toISOString().slice(0, 10);
    await analytics.rollups.rollupDay(today);
    const tomorrow = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString();
    const ts = await get(`/api/admin/analytics/timeseries?metric=user.registered&from=${today}T00:00:00Z&to=${encodeURIComponent(tomorrow)}`);
    const signups = await app.ctx.mongo.collection('users').countDocuments({ createdAt: { $gte: new Date(`${today}T00:00:00Z`) } });
    expect(ts.body.data).toEqual({ metric: 'user.registered', interval: 'day', points: [{ at: `${today}T00:00:00.000Z`, value: signups }] });
    const dashboard = await get('/api/admin/dashboard');
    expect(dashboard.body.data.users.signups).toBe(await app.ctx.mongo.collection('users').countDocuments({}));
    expect((await get('/api/admin/analytics/funnel')).body.data.steps.map((s: { step: string }) => s.step)).toEqual(['offer_created', 'offer_accepted', 'order_delivered', 'order_paid']);
    expect((await get('/api/admin/analytics/cohorts?weeks=4')).status).toBe(200);
    expect((await get('/api/admin/analytics/top?limit=5')).body.data.vendors).toEqual([]);
    expect((await get('/api/admin/analytics/timeseries?metric=nope')).status).toBe(400);
    expect((await get('/api/admin/analytics/timeseries?metric=message.sent&from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z')).status).toBe(400);
    expect((await get('/api/admin/analytics/timeseries?metric=message.sent&from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z')).status).toBe(400);
  });

  it('answers garbage on every admin route with a client error, never a 5xx', async () => {
    const doc = (await loadOpenApiDocument()) as Parameters<typeof listOperations>[0];
    const ops = listOperations(doc).filter((op) => op.path.startsWith('/api/admin/'));
    expect(ops.length).toBe(adminModuleOf(app).http?.routes.length);
    const failures: string[] = [];
    const send = async (label: string, method: string, path: string, body?: unknown) => {
      let req = app.api[method as 'get'](path).set('Authorization', bearer(people.super_admin));
      if (body !== undefined) req = req.set('Content-Type', 'application/json').send(JSON.stringify(body));
      const res = await req;
      if (res.status >= 500) failures.push(`${label} → ${res.status} ${res.text.slice(0, 120)}`);
    };
    for (const op of ops) {
      const base = op.path.replace(/\{(\w+)\}/g, () => new Types.ObjectId().toHexString());
      for (const raw of PATH_MUTATIONS) if (op.pathParams.length) await send(`${op.path} path ${raw.slice(0, 10)}`, op.method, op.path.replace(/\{(\w+)\}/g, raw));
      for (const { name } of op.query) for (const [label, make] of QUERY_MUTATIONS) await send(`${op.path} ?${name} ${label}`, op.method, `${base}?${make(name)}`);
      if (op.body && op.body !== 'multipart') {
        const plausible = plausibleValue(op.body) as Record<string, unknown>;
        for (const field of bodyFields(op.body)) {
          for (const [label, value] of VALUE_MUTATIONS) await send(`${op.path} ${field.path}=${label}`, op.method, base, setPath(structuredClone(plausible), field.path, value));
        }
      }
    }
    expect(failures).toEqual([]);
  }, 300_000);
});
