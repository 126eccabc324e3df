/**
 * Finance benchmark (figures, not a test): credit holds per second and their latency percentiles
 * with 100 concurrent buyers, on one hot account (100 buyers' lines against one vendor, so every
 * hold also takes that vendor's account lock) and on 100 separate accounts (100 buyer–vendor pairs),
 * printed side by side in one run. Each hold is the real path: both account locks, the guard,
 * the transfer insert, both balance updates and the hold record. It runs in a database of its
 * own on MONGODB_URI and drops it at the end.
 *
 *   npm run bench:finance
 *   BENCH_BUYERS=100 BENCH_HOLDS=5 npm run bench:finance   (holds per buyer)
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Types } from 'mongoose';
import { loadConfig } from '../src/config';
import { createFinanceServices } from '../src/modules/finance/finance.services';
import { createReconciler } from '../src/modules/finance/reconcile';
import { connectMongo, syncIndexes } from '../src/platform/mongo';
import { createLogger } from '../src/platform/logger';
import { createMetrics } from '../src/platform/metrics';
import { createEventBus } from '../src/platform/events';
import { createJobRunner } from '../src/platform/jobs';
import type { AppContext } from '../src/platform/context';

const BUYERS = Number(process.env.BENCH_BUYERS ?? 100);
const HOLDS = Number(process.env.BENCH_HOLDS ?? 5);
const URI = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27018/trade';

interface Row {
  scenario: string;
  holds: number;
  failed: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function main() {
  const dbName = `bench_finance_${randomBytes(4).toString('hex')}`;
  const url = new URL(URI);
  url.pathname = `/${dbName}`;
  const env = { ...process.env, NODE_ENV: 'test', MONGODB_URI: url.toString(), JWT_SECRET: process.env.JWT_SECRET ?? 'bench-secret-that-is-long-enough-0123456789', LOG_LEVEL: 'error', REDIS_URL: '' };
  const config = loadConfig(env);
  const logger = createLogger({ level: 'error', json: false });
  const mongo = await connectMongo({ ...config.mongo, poolSize: 50 }, logger);
  const metrics = createMetrics();
  const ctx: AppContext = {
    config,
    logger,
    mongo,
    postgres: null,
    redis: null,
    metrics,
    events: createEventBus({ logger }),
    jobs: createJobRunner({ redisUrl: null, keyPrefix: 'bench:', logger }),
    clock: () => new Date(),
    startedAt: new Date(),
  };
  const finance = createFinanceServices({ ctx, config: config.finance, io: null });
  await syncIndexes(mongo);
  const id = () => new Types.ObjectId().toHexString();
  const admin = id();

  async function scenario(label: string, pairs: Array<{ buyerId: string; vendorId: string }>): Promise<Row> {
    for (const p of pairs) await finance.credit.setLimit({ ...p, currency: 'INR', limit: 1_000_000_000, actorId: admin });
    const latencies: number[] = [];
    let failed = 0;
    const started = performance.now();
    await Promise.all(
      pairs.map(async (p) => {
        for (let i = 0; i < HOLDS; i += 1) {
          const t0 = performance.now();
          try {
            await finance.credit.hold({ offerId: `${label}-${p.buyerId}-${i}`, ...p, amount: { amount: 1_000, currency: 'INR' }, creditDays: 30, actorId: p.buyerId });
            latencies.push(performance.now() - t0);
          } catch (err) {
            failed += 1;
            if (failed <= 3) console.error(`${label}: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    return {
      scenario: label,
      holds: latencies.length,
      failed,
      seconds: Math.round(seconds * 10) / 10,
      perSecond: Math.round((latencies.length / seconds) * 10) / 10,
      p50: Math.round(percentile(latencies, 50)),
      p95: Math.round(percentile(latencies, 95)),
      p99: Math.round(percentile(latencies, 99)),
      max: Math.round(latencies.at(-1) ?? 0),
    };
  }

  try {
    const vendor = id();
    const hot = await scenario('hot', Array.from({ length: BUYERS }, () => ({ buyerId: id(), vendorId: vendor })));
    const spread = await scenario('separate', Array.from({ length: BUYERS }, () => ({ buyerId: id(), vendorId: id() })));
    const report = await createReconciler({ models: finance.models, registry: metrics.registry, logger, clock: ctx.clock }).run();
    console.log(`\nCredit holds, ${BUYERS} concurrent buyers, ${HOLDS} holds each (one process, FerretDB at ${URI})\n`);
    console.log('| accounts | holds | failed | seconds | holds/s | p50 ms | p95 ms | p99 ms | max ms |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const r of [hot, spread]) {
      const name = r.scenario === 'hot' ? `one hot vendor account (${BUYERS} lines → 1 vendor)` : `${BUYERS} separate accounts (${BUYERS} lines → ${BUYERS} vendors)`;
      console.log(`| ${name} | ${r.holds} | ${r.failed} | ${r.seconds} | ${r.perSecond} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.max} |`);
    }
    console.log(`\nLedger after the run: ${report.accounts} accounts, ${report.transfers} transfers, ${report.differences.length} differences, unbalanced currencies: ${report.unbalancedCurrencies.join(', ') || 'none'}`);
  } finally {
    await mongo.dropDatabase().catch(() => undefined);
    await mongo.close();
    metrics.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
