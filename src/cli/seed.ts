import 'dotenv/config';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config';
import { DEFAULT_OPTIONS, runSeed, SeedRefused, type SeedOptions, type SeedSummary } from './seed/run';

const USAGE = `Usage: npm run seed -- [--users N] [--conversations N] [--messages N] [--offers N] [--seed N]
                       [--again] [--no-payments] [--concurrency N] [--json] [--verbose] [--force]

Fills the database of MONGODB_URI (and analytics in POSTGRES_URL) with a believable marketplace,
through the app's own API: buyers, vendors, admins, conversations and messages, offers in every
state, orders through their states, credit lines, Stripe payments (through stripe-mock, with
webhook events signed locally) and the notifications all of that causes.

  --users N          people besides the demo accounts, about 30% vendors (default ${DEFAULT_OPTIONS.users})
  --conversations N  conversations (default ${DEFAULT_OPTIONS.conversations})
  --messages N       messages per conversation (default ${DEFAULT_OPTIONS.messages})
  --offers N         negotiations (default ${DEFAULT_OPTIONS.offers})
  --seed N           the random seed: the same seed gives the same marketplace (default ${DEFAULT_OPTIONS.seed})
  --again            the database is already seeded: add another batch (new accounts, suffixed)
  --no-payments      skip payments (they also are skipped when stripe-mock is not reachable)
  --stripe-mock URL  stripe-mock's address (default STRIPE_MOCK_URL or ${DEFAULT_OPTIONS.stripeMockUrl})
  --concurrency N    requests in flight at once (default ${DEFAULT_OPTIONS.concurrency})
  --json             print the summary as JSON on the last line
  --verbose          the app's log at info level (default: warnings only)
  --force            run even with NODE_ENV=production (never do this on a real database)`;

function count(raw: string | undefined, name: string, fallback: number, max = 100_000): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > max) throw new UsageError(`--${name} must be an integer from 0 to ${max}`);
  return value;
}

class UsageError extends Error {}

function report(summary: SeedSummary, out: (line: string) => void): void {
  out('');
  out(`Seeded in ${summary.seconds} s (${summary.requests} API requests):`);
  out(`  users          ${summary.users.user} buyers, ${summary.users.vendor} vendors, ${summary.users.admin} admin, ${summary.users.super_admin} super admin (${summary.suspended} suspended), ${summary.follows} follows`);
  out(`  conversations  ${summary.conversations.direct} direct, ${summary.conversations.group} groups, ${summary.messages} messages`);
  out(`  offers         ${Object.entries(summary.offers).map(([k, v]) => `${v} ${k}`).join(', ')}`);
  out(`  orders         ${Object.entries(summary.orders).map(([k, v]) => `${v} ${k}`).join(', ')}`);
  out(`  credit lines   ${summary.creditLines} (${summary.frozenLines} frozen)`);
  out(summary.payments.skipped
    ? `  payments       skipped: ${summary.payments.skipped}`
    : `  payments       ${summary.payments.succeeded} succeeded, ${summary.payments.failed} failed, ${summary.payments.pending} pending, ${summary.payments.refunds} refunds`);
  out(`  notifications  from every event above, 1 campaign; ${summary.notificationsRead} people read theirs`);
  out(`  analytics      ${summary.analytics.enabled ? `events written to PostgreSQL${summary.analytics.flushed ? '' : ' (the last flush failed: see the log)'}; rollup of ${summary.analytics.rolledUp ?? '-'} recomputed` : 'off (no POSTGRES_URL)'}`);
  demoAccounts(summary, out);
}

function demoAccounts(summary: SeedSummary, out: (line: string) => void): void {
  const d = summary.demo;
  out('');
  out('Demo accounts (development only):');
  out(`  super admin  ${d.superAdmin.email}  ${d.superAdmin.password}`);
  out(`  admin        ${d.admin.email}  ${d.admin.password}`);
  out(`  vendor       ${d.vendor.email}  ${d.vendor.password}`);
  out(`  buyer        ${d.buyer.email}  ${d.buyer.password}`);
  out('  every other seeded account: its email (GET /api/admin/users) with the password Seed-user-2026');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      users: { type: 'string' },
      conversations: { type: 'string' },
      messages: { type: 'string' },
      offers: { type: 'string' },
      seed: { type: 'string' },
      concurrency: { type: 'string' },
      'stripe-mock': { type: 'string' },
      again: { type: 'boolean', default: false },
      'no-payments': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const out = (line: string) => void process.stdout.write(`${line}\n`);
  const options: SeedOptions = {
    ...DEFAULT_OPTIONS,
    users: count(values.users, 'users', DEFAULT_OPTIONS.users),
    conversations: count(values.conversations, 'conversations', DEFAULT_OPTIONS.conversations),
    messages: count(values.messages, 'messages', DEFAULT_OPTIONS.messages, 1_000),
    offers: count(values.offers, 'offers', DEFAULT_OPTIONS.offers),
    seed: count(values.seed, 'seed', DEFAULT_OPTIONS.seed, 2 ** 31),
    concurrency: Math.max(1, count(values.concurrency, 'concurrency', DEFAULT_OPTIONS.concurrency, 64)),
    stripeMockUrl: values['stripe-mock'] ?? process.env.STRIPE_MOCK_URL ?? DEFAULT_OPTIONS.stripeMockUrl,
    again: values.again ?? false,
    payments: !values['no-payments'],
    force: values.force ?? false,
    logLevel: values.verbose ? 'info' : 'warn',
    out,
  };
  const summary = await runSeed(options);
  if (summary.alreadySeeded) demoAccounts(summary, out);
  else report(summary, out);
  if (values.json) out(JSON.stringify(summary));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${USAGE}\n`);
      process.exit(2);
    }
    if (err instanceof SeedRefused || err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`Seed failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
