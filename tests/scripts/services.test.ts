import { MongoClient } from 'mongodb';
import { readFile } from 'node:fs/promises';
import nodemailer from 'nodemailer';
import { Client } from 'pg';
import { freePort } from '../helpers/ferretdb';
import { deleteAllMessages, findMessageTo, listMessages, uniqueRecipient } from '../helpers/mailpit';
import { alive, Checkout, freePorts, serviceUrls, statusText, type Ports } from './checkout';

// Each step starts or stops real services in a fresh copy of the repository; generous limits,
// no timing assertions.
jest.setTimeout(60_000);

const mongoUrl = (ports: Ports) => `mongodb://127.0.0.1:${ports.FERRETDB_PORT}/`;
const pgUrl = (ports: Ports, db = 'trade') => `postgres://postgres@127.0.0.1:${ports.POSTGRES_PORT}/${db}`;

async function withMongo<T>(ports: Ports, fn: (client: MongoClient) => Promise<T>): Promise<T> {
  const client = await MongoClient.connect(mongoUrl(ports), { serverSelectionTimeoutMS: 5000 });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** GET on stripe-mock with a test-mode key, as the Stripe SDK sends it. */
async function stripeMockGet(ports: Ports, apiKey = 'sk_test_services'): Promise<{ status: number; body: { object?: string; error?: { type: string } } }> {
  const response = await fetch(`${serviceUrls(ports).stripeMock}/v1/customers`, { headers: { authorization: `Bearer ${apiKey}` } });
  return { status: response.status, body: (await response.json()) as { object?: string; error?: { type: string } } };
}

async function sendMail(ports: Ports, to: string): Promise<void> {
  const transport = nodemailer.createTransport(serviceUrls(ports).mailpitSmtp);
  try {
    await transport.sendMail({ from: 'services@trade.local', to, subject: 'kept across restarts', text: 'hello' });
  } finally {
    transport.close();
  }
}

/** Whether anything accepts a connection on the port. */
async function listening(port: string): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

async function withPg<T>(ports: Ports, db: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: pgUrl(ports, db) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe('scripts/services.sh in a fresh copy of the repository', () => {
  let first: Checkout;
  let second: Checkout | undefined;
  let ports: Ports;
  let otherPorts: Ports;

  beforeAll(async () => {
    ports = await freePorts();
    otherPorts = await freePorts();
    first = await Checkout.create();
  });

  afterAll(async () => {
    await second?.destroy([ports, otherPorts]);
    await first?.destroy([ports]);
  });

  it('comes up, goes down and comes up again on the same PostgreSQL cluster and data', async () => {
    const up = await first.services('up', ports);
    expect(up).toMatchObject({ code: 0 });
    const urls = serviceUrls(ports);
    expect(up.stdout).toContain(`export MONGODB_URI=mongodb://127.0.0.1:${ports.FERRETDB_PORT}/trade`);
    expect(up.stdout).toContain(`export STRIPE_MOCK_URL=${urls.stripeMock}\n`);
    expect(up.stdout).toContain(`export MAILPIT_SMTP_URL=${urls.mailpitSmtp}\n`);
    expect(up.stdout).toContain(`export MAILPIT_API_URL=${urls.mailpitApi}\n`);
    expect((await first.services('status', ports)).stdout).toBe(statusText(ports, 'up'));
    const pgDir = await first.postgresDir();
    expect(pgDir).toBeTruthy();

    // stripe-mock answers as Stripe does: a list with a test-mode key, 401 without one.
    expect(await stripeMockGet(ports)).toMatchObject({ status: 200, body: { object: 'list' } });
    expect(await stripeMockGet(ports, 'sk_live_notaccepted')).toMatchObject({ status: 401, body: { error: { type: 'invalid_request_error' } } });
    // Mailpit's API answers, and keeps what its SMTP port receives.
    const recipient = uniqueRecipient('services');
    expect(await listMessages({ apiUrl: urls.mailpitApi })).toEqual([]);
    await sendMail(ports, recipient);

    await withMongo(ports, (c) => c.db('marker').collection('kept').insertOne({ _id: 'across-restarts' as never }));
    await withPg(ports, 'trade', (c) => c.query('CREATE TABLE kept_across_restarts (id int)'));

    const down = await first.services('down', ports);
    expect(down).toMatchObject({ code: 0 });
    expect((await first.services('status', ports)).stdout).toBe(statusText(ports, 'down'));
    expect(await listening(ports.STRIPE_MOCK_PORT)).toBe(false);
    expect(await listening(ports.MAILPIT_HTTP_PORT)).toBe(false);

    const again = await first.services('up', ports);
    expect(again).toMatchObject({ code: 0 });
    expect(again.stderr).not.toMatch(/creating a PostgreSQL cluster/);
    expect(await first.postgresDir()).toBe(pgDir);
    expect(await withMongo(ports, (c) => c.db('marker').collection('kept').countDocuments())).toBe(1);
    const tables = await withPg(ports, 'trade', (c) => c.query("SELECT 1 FROM pg_tables WHERE tablename = 'kept_across_restarts'"));
    expect(tables.rowCount).toBe(1);
    expect(await stripeMockGet(ports)).toMatchObject({ status: 200, body: { object: 'list' } });
    // Mails are kept in .data/mailpit across a restart, until deleted.
    expect((await findMessageTo(recipient, { apiUrl: urls.mailpitApi })).Subject).toBe('kept across restarts');
    await deleteAllMessages({ apiUrl: urls.mailpitApi });
    expect(await listMessages({ apiUrl: urls.mailpitApi })).toEqual([]);

    // A third `up` with everything running changes nothing.
    expect(await first.services('up', ports)).toMatchObject({ code: 0, stderr: '' });
  });

  it('keeps FerretDB data in PostgreSQL with a GIN companion of each index, set up on a fresh folder and again on an existing one', async () => {
    const setup = async (c: Client) => {
      const config = await c.query(
        "SELECT array_to_string(s.setconfig, ',') AS config FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = 'ferretdb'",
      );
      const triggers = await c.query("SELECT evtname FROM pg_event_trigger WHERE evtname LIKE 'trade_gin_companions%' ORDER BY 1");
      const gins = await c.query("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'probe' AND indexdef LIKE '% USING gin %' ORDER BY 1");
      return {
        config: config.rows.map((r) => r.config as string).join(','),
        triggers: triggers.rows.map((r) => r.evtname as string),
        gins: gins.rows as Array<{ indexname: string; indexdef: string }>,
      };
    };

    // Indexes made through the MongoDB driver get their companions from the event trigger.
    await withMongo(ports, async (c) => {
      const messages = c.db('probe').collection('messages');
      await messages.createIndex({ clientMessageId: 1 }, { unique: true });
      await messages.createIndex({ conversationId: 1, seq: 1 });
      await messages.createIndex({ 'meta.kind': 1 });
      await messages.insertMany([1, 2, 3].map((seq) => ({ clientMessageId: `c${seq}`, conversationId: 'k', seq, meta: { kind: 'text' } })));
    });
    const fresh = await withPg(ports, 'ferretdb', setup);
    expect(fresh.config).toContain('plan_cache_mode=force_custom_plan');
    expect(fresh.triggers).toEqual(['trade_gin_companions', 'trade_gin_companions_drop']);
    const keys = (gins: Array<{ indexdef: string }>) => gins.map((g) => /USING gin \(\(\(_jsonb -> '([^']+)'/.exec(g.indexdef)?.[1]).sort();
    // _id, the unique field and the first key of the compound index; a dotted path is not pushed down.
    expect(keys(fresh.gins)).toEqual(['_id', 'clientMessageId', 'conversationId']);
    expect(fresh.gins.every((g) => g.indexdef.includes('fastupdate=off'))).toBe(true);

    // FerretDB's pushed-down form of findOne({ clientMessageId }) can use the companion.
    const plan = await withPg(ports, 'ferretdb', async (c) => {
      const table = await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'probe' AND tablename LIKE 'messages%'");
      await c.query('SET enable_seqscan = off');
      const explained = await c.query(`EXPLAIN SELECT _jsonb FROM probe."${table.rows[0].tablename}" WHERE _jsonb -> 'clientMessageId' @> '"c2"'`);
      return explained.rows.map((r) => r['QUERY PLAN'] as string).join('\n');
    });
    expect(plan).toContain(fresh.gins.find((g) => g.indexdef.includes("'clientMessageId'"))?.indexname);

    // A data folder from before the companions: no triggers, no setting, no GIN indexes.
    await withPg(ports, 'ferretdb', async (c) => {
      await c.query('DROP EVENT TRIGGER trade_gin_companions');
      await c.query('DROP EVENT TRIGGER trade_gin_companions_drop');
      await c.query('ALTER DATABASE ferretdb RESET plan_cache_mode');
      for (const g of fresh.gins) await c.query(`DROP INDEX probe."${g.indexname}"`);
    });
    expect((await first.services('down', ports)).code).toBe(0);
    expect((await first.services('up', ports)).code).toBe(0);
    expect(await withPg(ports, 'ferretdb', setup)).toEqual(fresh);
    expect((await first.services('up', ports)).code).toBe(0);
    expect(await withPg(ports, 'ferretdb', setup)).toEqual(fresh);

    // Dropping an index through the driver drops its companion.
    await withMongo(ports, (c) => c.db('probe').collection('messages').dropIndex('clientMessageId_1'));
    expect(keys((await withPg(ports, 'ferretdb', setup)).gins)).toEqual(['_id', 'conversationId']);
  });

  it('when a second copy asks for ports the first one holds, it fails at once naming the port, the holder and the variables', async () => {
    second = await Checkout.create();
    const theirs = second;

    // Same ports for everything: PostgreSQL's is the first one checked.
    const same = await theirs.services('up', ports);
    expect(same.code).not.toBe(0);
    expect(same.stderr).toContain(`port ${ports.POSTGRES_PORT} (PostgreSQL)`);
    expect(same.stderr).toContain(`pid ${await pgPid(first)}`);
    expect(same.stderr).toMatch(/FERRETDB_PORT=\d+ POSTGRES_PORT=\d+ REDIS_PORT=\d+ STRIPE_MOCK_PORT=\d+ MAILPIT_SMTP_PORT=\d+ MAILPIT_HTTP_PORT=\d+/);

    // Only FerretDB's port collides: named with the checkout that holds it; nothing was started.
    const ferret = await theirs.services('up', { ...otherPorts, FERRETDB_PORT: ports.FERRETDB_PORT });
    expect(ferret.code).not.toBe(0);
    expect(ferret.stderr).toContain(`port ${ports.FERRETDB_PORT} (FerretDB)`);
    expect(ferret.stderr).toContain(`pid ${await first.pid('.data/ferretdb/ferretdb.pid')}`);
    expect(ferret.stderr).toContain(first.root);

    // Only Redis's port collides: `up` no longer takes any open port for its own Redis.
    const redis = await theirs.services('up', { ...otherPorts, REDIS_PORT: ports.REDIS_PORT });
    expect(redis.code).not.toBe(0);
    expect(redis.stderr).toContain(`port ${ports.REDIS_PORT} (Redis)`);
    expect(redis.stderr).toContain(first.root);

    // stripe-mock's and each of Mailpit's two ports likewise.
    const stripeMock = await theirs.services('up', { ...otherPorts, STRIPE_MOCK_PORT: ports.STRIPE_MOCK_PORT });
    expect(stripeMock.code).not.toBe(0);
    expect(stripeMock.stderr).toContain(`port ${ports.STRIPE_MOCK_PORT} (stripe-mock)`);
    expect(stripeMock.stderr).toContain(`pid ${await first.pid('.data/stripe-mock/stripe-mock.pid')}`);
    expect(stripeMock.stderr).toContain(first.root);
    for (const [variable, name] of [
      ['MAILPIT_SMTP_PORT', 'Mailpit SMTP'],
      ['MAILPIT_HTTP_PORT', 'Mailpit HTTP'],
    ] as const) {
      const mailpit = await theirs.services('up', { ...otherPorts, [variable]: ports[variable] });
      expect(mailpit.code).not.toBe(0);
      expect(mailpit.stderr).toContain(`port ${ports[variable]} (${name})`);
      expect(mailpit.stderr).toContain(`pid ${await first.pid('.data/mailpit/mailpit.pid')}`);
      expect(mailpit.stderr).toContain(first.root);
    }

    expect((await theirs.services('status', otherPorts)).stdout).toBe(statusText(otherPorts, 'down'));
    // The first copy's services are untouched.
    expect((await first.services('status', ports)).stdout).toBe(statusText(ports, 'up'));
  });

  it.each(['SIGINT', 'SIGKILL'] as const)('when dev.sh is stopped by %s to its process group, the services it started keep running', async (signal) => {
    expect((await first.services('down', ports)).code).toBe(0);
    const dev = first.dev(ports, await freePort());
    try {
      const deadline = Date.now() + 45_000;
      while (!/Listening on http/.test(dev.output()) && dev.child.exitCode === null && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(dev.output()).toMatch(/Listening on http/);
      expect(dev.output()).not.toMatch(/installing npm packages/);
      const pids = await Promise.all(
        ['ferretdb/ferretdb.pid', 'redis/redis.pid', 'stripe-mock/stripe-mock.pid', 'mailpit/mailpit.pid'].map((file) => first.pid(`.data/${file}`)),
      );
      process.kill(-(dev.child.pid as number), signal);
      await dev.exited;

      for (const pid of pids) expect(alive(pid)).toBe(true);
      expect(alive(await pgPid(first))).toBe(true);
      expect((await first.services('status', ports)).stdout).toBe(statusText(ports, 'up'));
      await withMongo(ports, (c) => c.db('marker').command({ ping: 1 }));
    } finally {
      try {
        process.kill(-(dev.child.pid as number), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
});

async function pgPid(checkout: Checkout): Promise<number | null> {
  const dir = await checkout.postgresDir();
  if (!dir) return null;
  try {
    return Number((await readFile(`${dir}/data/postmaster.pid`, 'utf8')).split('\n')[0]);
  } catch {
    return null;
  }
}
