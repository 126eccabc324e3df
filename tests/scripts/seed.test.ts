import { spawn } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';
import { DEFAULT_OPTIONS, DEMO, runSeed, SEED_USER_PASSWORD, type SeedSummary } from '../../src/cli/seed/run';
import { testEnv } from '../helpers/env';
import { isolatedNames, startTestServer, type TestServer } from '../helpers/server';

// `npm run seed` on a fresh database of its own: run once as a function with small sizes, then
// checked through the API (as the dashboard and the apps see it) and in PostgreSQL's analytics;
// then the CLI itself twice more: once refused (production), once on the seeded database.

const ROOT = path.resolve(__dirname, '../..');
const names = isolatedNames();

function withDatabase(url: string | undefined, db: string): string | undefined {
  if (!url) return undefined;
  const parsed = new URL(url);
  parsed.pathname = `/${db}`;
  return parsed.toString();
}

const env = testEnv({
  MONGODB_URI: withDatabase(process.env.MONGODB_URI, names.mongoDb),
  POSTGRES_URL: withDatabase(process.env.POSTGRES_URL, names.postgresDb),
  REDIS_KEY_PREFIX: names.redisPrefix,
});

async function adminQuery<T extends Record<string, unknown>>(url: string | undefined, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

function runCli(args: string[], overrides: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/seed.ts'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, DOTENV_CONFIG_PATH: '/nonexistent', ...env, ...overrides } as NodeJS.ProcessEnv,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

interface Page<T> {
  data: T[];
  page: { nextCursor: string | null };
}

describe('npm run seed', () => {
  let summary: SeedSummary;
  let app: TestServer;
  let admin: string;
  const lines: string[] = [];

  async function all<T>(pathname: string, token: string): Promise<T[]> {
    const found: T[] = [];
    let cursor: string | null = null;
    do {
      const sep = pathname.includes('?') ? '&' : '?';
      const res = await app.api.get(`${pathname}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`).set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(200);
      const page = res.body as Page<T>;
      found.push(...page.data);
      cursor = page.page.nextCursor;
    } while (cursor);
    return found;
  }

  async function signIn(email: string, password: string): Promise<string> {
    const res = await app.api.post('/api/auth/login').send({ email, password });
    expect(res.status).toBe(200);
    return res.body.data.accessToken as string;
  }

  beforeAll(async () => {
    await adminQuery(process.env.POSTGRES_URL, `CREATE DATABASE ${names.postgresDb}`);
    summary = await runSeed(
      { ...DEFAULT_OPTIONS, users: 8, conversations: 10, messages: 2, offers: 12, concurrency: 4, bcryptCost: 4, logLevel: 'error', stripeMockUrl: process.env.STRIPE_MOCK_URL ?? DEFAULT_OPTIONS.stripeMockUrl, out: (line) => lines.push(line) },
      env,
    );
    // The seed has stopped its own server: this one only reads what it left.
    app = await startTestServer({ names, ownsDatabases: false });
    admin = await signIn(DEMO.admin.email, DEMO.admin.password);
  }, 400_000);

  afterAll(async () => {
    if (app) {
      await app.ctx.mongo.dropDatabase().catch(() => undefined);
      const keys = (await app.ctx.redis?.keys(`${names.redisPrefix}*`).catch(() => [] as string[])) ?? [];
      if (keys.length) await app.ctx.redis?.del(...keys).catch(() => undefined);
      await app.close();
    }
    await adminQuery(process.env.POSTGRES_URL, `DROP DATABASE IF EXISTS ${names.postgresDb} WITH (FORCE)`).catch(() => undefined);
  }, 60_000);

  test('reports what it made: every role, every offer and order state, payments through stripe-mock', () => {
    expect(summary.alreadySeeded).toBe(false);
    expect(summary.users).toEqual({ user: 7, vendor: 3, admin: 1, super_admin: 1 });
    expect(summary.conversations.direct + summary.conversations.group).toBe(10);
    for (const state of ['open', 'countered', 'accepted', 'rejected', 'withdrawn', 'expired'] as const) expect(summary.offers[state]).toBeGreaterThanOrEqual(1);
    expect(Object.values(summary.offers).reduce((a, b) => a + b, 0)).toBe(12);
    for (const state of ['placed', 'confirmed', 'shipped', 'delivered', 'completed', 'cancelled'] as const) expect(summary.orders[state]).toBe(1);
    expect(summary.payments.skipped).toBeNull();
    expect(summary.payments.succeeded + summary.payments.failed).toBeGreaterThanOrEqual(1);
    expect(summary.suspended).toBe(1);
    expect(summary.analytics).toEqual({ enabled: true, flushed: true, rolledUp: new Date().toISOString().slice(0, 10) });
    expect(lines.join('\n')).toContain('Seeding a fresh database');
  });

  test('the accounts, by role and status, through the admin API', async () => {
    const users = await all<{ id: string; email: string; role: string; status: string }>('/api/admin/users', admin);
    const count = (role: string, status?: string) => users.filter((u) => u.role === role && (!status || u.status === status)).length;
    expect({ user: count('user'), vendor: count('vendor'), admin: count('admin'), super_admin: count('super_admin') }).toEqual(summary.users);
    expect(users.filter((u) => u.status === 'suspended')).toHaveLength(summary.suspended);
    const dashboard = await app.api.get('/api/admin/dashboard').set('Authorization', `Bearer ${admin}`);
    expect(dashboard.status).toBe(200);
    const byRole = dashboard.body.data.users.byRoleAndStatus as Array<{ role: string; status: string; count: number }>;
    expect(byRole.find((r) => r.role === 'vendor' && r.status === 'active')?.count).toBe(3);
    expect(byRole.find((r) => r.role === 'user' && r.status === 'suspended')?.count).toBe(1);
    // The demo vendor and buyer sign in with the documented passwords; so does every other seeded account.
    await signIn(DEMO.vendor.email, DEMO.vendor.password);
    await signIn(DEMO.buyer.email, DEMO.buyer.password);
    const other = users.find((u) => u.status === 'active' && u.role === 'user' && u.email !== DEMO.buyer.email);
    await signIn(other!.email, SEED_USER_PASSWORD);
  }, 60_000);

  test('offers in each state and orders in each state, through the admin API', async () => {
    for (const status of ['open', 'countered', 'accepted', 'rejected', 'withdrawn', 'expired'] as const) {
      const offers = await all<{ status: string }>(`/api/admin/offers?status=${status}`, admin);
      expect({ status, count: offers.length }).toEqual({ status, count: summary.offers[status] });
    }
    const orders = await all<{ status: string }>('/api/admin/orders', admin);
    const byStatus = Object.fromEntries(['placed', 'confirmed', 'shipped', 'delivered', 'completed', 'cancelled'].map((s) => [s, orders.filter((o) => o.status === s).length]));
    expect(byStatus).toEqual(summary.orders);
  }, 60_000);

  test('conversations and notifications, as the people in them see them', async () => {
    const users = await all<{ email: string; role: string; status: string }>('/api/admin/users', admin);
    const people = users.filter((u) => u.status === 'active' && (u.role === 'user' || u.role === 'vendor'));
    const passwordOf = (email: string) => [DEMO.vendor, DEMO.buyer].find((d) => d.email === email)?.password ?? SEED_USER_PASSWORD;
    const conversationIds = new Set<string>();
    let notifications = 0;
    for (const person of people) {
      const token = await signIn(person.email, passwordOf(person.email));
      for (const c of await all<{ id: string }>('/api/chat/conversations', token)) conversationIds.add(c.id);
      notifications += (await all<{ id: string }>('/api/notifications', token)).length;
    }
    // Every conversation has a vendor in it (vendors are never suspended by the seed).
    expect(conversationIds.size).toBe(summary.conversations.direct + summary.conversations.group);
    // Messages, offers, orders, payments and the campaign all notify someone.
    expect(notifications).toBeGreaterThan(people.length);
    const demoBuyer = await signIn(DEMO.buyer.email, DEMO.buyer.password);
    expect((await all('/api/notifications', demoBuyer)).length).toBeGreaterThan(0);
  }, 120_000);

  test('analytics events reached PostgreSQL and the dashboard counts them', async () => {
    const rows = await adminQuery<{ name: string; n: string }>(env.POSTGRES_URL, 'SELECT name, count(*) AS n FROM analytics_domain_events GROUP BY name');
    const events = Object.fromEntries(rows.map((r) => [r.name, Number(r.n)]));
    expect(events['user.registered']).toBe(12);
    expect(events['offer.created']).toBe(12);
    expect(events['offer.accepted']).toBe(summary.offers.accepted);
    expect(events['offer.expired']).toBe(summary.offers.expired);
    expect(events['order.created']).toBe(summary.offers.accepted);
    // Every chat message plus the offer messages each negotiation step posts.
    expect(events['message.sent']).toBeGreaterThan(summary.messages);
    expect(events['payment.succeeded'] ?? 0).toBe(summary.payments.succeeded);
    const dashboard = await app.api.get('/api/admin/dashboard').set('Authorization', `Bearer ${admin}`);
    expect(dashboard.body.data.offers.made).toBe(12);
    expect(dashboard.body.data.messages).toBe(events['message.sent']);
    const rollup = await adminQuery<{ value: string }>(env.POSTGRES_URL, `SELECT value FROM analytics_daily WHERE metric = 'events' AND dimension = 'offer.created' AND day = (now() AT TIME ZONE 'UTC')::date`);
    expect(rollup.map((r) => Number(r.value))).toEqual([12]);
  });

  test('the CLI refuses NODE_ENV=production without --force, before touching anything', async () => {
    const refused = await runCli(['--users', '1'], { NODE_ENV: 'production' });
    expect(refused.code).toBe(2);
    expect(refused.output).toContain('NODE_ENV is production');
    const bad = await runCli(['--users', 'many']);
    expect(bad.code).toBe(2);
    expect(bad.output).toContain('--users must be an integer');
  }, 60_000);

  test('a second run says the database is seeded, changes nothing and exits 0', async () => {
    const before = await all('/api/admin/users', admin);
    const again = await runCli(['--json']);
    expect(again.output).toContain('already seeded');
    expect(again.output).toContain(DEMO.vendor.email);
    expect(again.code).toBe(0);
    const json = JSON.parse(again.output.trim().split('\n').pop()!) as SeedSummary;
    expect(json.alreadySeeded).toBe(true);
    expect(await all('/api/admin/users', admin)).toHaveLength(before.length);
  }, 120_000);

  test('--again adds a batch of new accounts beside the first', async () => {
    const before = await all<{ email: string }>('/api/admin/users', admin);
    const more = await runCli(['--again', '--users', '2', '--conversations', '1', '--messages', '1', '--offers', '0', '--no-payments', '--json']);
    expect(more.code).toBe(0);
    const json = JSON.parse(more.output.trim().split('\n').pop()!) as SeedSummary;
    expect(json.alreadySeeded).toBe(false);
    expect(json.tag).not.toBe('');
    // The demo accounts are signed in again, not made twice.
    expect(json.users).toEqual({ user: 1, vendor: 1, admin: 0, super_admin: 0 });
    const after = await all<{ email: string }>('/api/admin/users', admin);
    expect(after.length - before.length).toBe(2);
    expect(after.filter((u) => u.email.includes(json.tag))).toHaveLength(2);
  }, 180_000);
});
