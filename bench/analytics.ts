/**
 * Analytics benchmark (figures, not a test). In one run:
 *  1. the writer alone: BENCH_EVENTS rows recorded at once into a fresh, migrated PostgreSQL
 *     database, then flushed in ANALYTICS_BATCH_SIZE batches: events per second it sustains;
 *  2. the app serving chat sends (each publishes `message.sent`, which analytics records) for
 *     BENCH_SECONDS at BENCH_CONNECTIONS connections, with analytics off, on, on, off (one fresh
 *     process each time): requests per second and the ratio of the means (goal: within 5%).
 *
 *   npm run bench:analytics
 *   BENCH_SECONDS=10 BENCH_EVENTS=200000 npm run bench:analytics
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { createPostgresPool } from '../src/platform/postgres';
import { migrate } from '../src/platform/migrations';
import { createLogger } from '../src/platform/logger';
import { toAnalyticsRow, type AnalyticsModule } from '../src/modules/analytics';
import { createAnalyticsWriter } from '../src/modules/analytics/analytics.writer';
import { startTestServer } from '../tests/helpers/server';
import { createUser, bearer } from '../tests/helpers/users';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const logger = createLogger({ level: 'error', json: true, silent: true });

async function writerAlone(): Promise<void> {
  const db = `bench_an_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: process.env.POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  const url = new URL(process.env.POSTGRES_URL as string);
  url.pathname = `/${db}`;
  const pool = createPostgresPool({ url: url.toString(), poolSize: 4 }, logger);
  try {
    await migrate(pool, logger);
    const batchSize = Number(process.env.ANALYTICS_BATCH_SIZE ?? 500);
    const writer = createAnalyticsWriter({ pool, logger, batchSize, flushIntervalMs: 1_000, bufferMaxEvents: EVENTS, retryMaxMs: 1_000 });
    const at = new Date().toISOString();
    const started = process.hrtime.bigint();
    for (let i = 0; i < EVENTS; i += 1) {
      writer.record(toAnalyticsRow('message.sent', { messageId: `m${i}`, conversationId: 'c1', senderId: `u${i % 1000}`, seq: i, type: 'text', at }, at));
    }
    const recorded = Number(process.hrtime.bigint() - started) / 1e9;
    await writer.flush();
    const total = Number(process.hrtime.bigint() - started) / 1e9;
    await writer.close();
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM analytics_domain_events');
    console.log(`writer: ${EVENTS} events recorded in ${(recorded * 1000).toFixed(0)} ms (${Math.round(EVENTS / recorded)}/s into the buffer), stored ${rows[0]?.n} in ${total.toFixed(2)} s → ${Math.round(EVENTS / total)} events/s into PostgreSQL (batches of ${batchSize})`);
  } finally {
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.end();
  }
}

async function sends(enabled: boolean): Promise<number> {
  const app = await startTestServer({
    env: { LOG_LEVEL: 'error', ANALYTICS_ENABLED: String(enabled), RATE_LIMIT_MAX: '1000000', CHAT_SEND_RATE_MAX: '1000000', AUTH_RATE_LIMIT_MAX: '100000' },
  });
  try {
    const [alice, bob] = [await createUser(app), await createUser(app)];
    const conversation = await app.api.post('/api/chat/conversations').set('Authorization', bearer(alice)).send({ type: 'direct', participantIds: [bob.id] });
    const path = `/api/chat/conversations/${conversation.body.data.id as string}/messages`;
    let n = 0;
    const result = await autocannon({
      url: app.url,
      connections: CONNECTIONS,
      duration: SECONDS,
      requests: [
        {
          method: 'POST',
          path,
          headers: { 'content-type': 'application/json', authorization: bearer(alice) },
          setupRequest: (req) => ({ ...req, body: JSON.stringify({ clientMessageId: `b-${enabled}-${(n += 1)}`, text: 'price?' }) }),
        },
      ],
    });
    const analytics = app.server.modules.find((m) => m.name === 'analytics') as AnalyticsModule;
    await app.ctx.events.drain();
    await analytics.flush();
    const stats = analytics.writer?.stats();
    console.log(
      `chat sends, analytics ${enabled ? 'on ' : 'off'}: ${result.requests.average.toFixed(1)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}` +
        (stats ? `; analytics rows written ${stats.written}, dropped ${stats.dropped}` : ''),
    );
    return result.requests.average;
  } finally {
    await app.close();
  }
}

async function main(): Promise<void> {
  const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');
  console.log(`load average at start: ${load()} (${os.cpus().length} cores, shared)`);
  await writerAlone();
  // Off, on, on, off (ABBA): a machine getting busier or quieter during the run moves both sides alike.
  const off: number[] = [];
  const on: number[] = [];
  for (const enabled of [false, true, true, false]) (enabled ? on : off).push(await sends(enabled));
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  console.log(`throughput with analytics on / off: ${mean(on).toFixed(1)} / ${mean(off).toFixed(1)} req/s = ${((mean(on) / mean(off)) * 100).toFixed(1)}% (goal: at least 95%); load average at end: ${load()}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
