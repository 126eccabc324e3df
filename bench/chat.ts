/**
 * Chat benchmark (figures, not a test). N socket clients in pairs (one direct conversation per
 * pair, one sender per pair), after BENCH_PRELOAD messages are already stored in the first pair's
 * conversation. A step search over the total send rate: each step sends at a fixed rate for
 * BENCH_SECONDS and measures sender→receiver latency, losses and refusals, store operations
 * (driver command monitoring) and Node CPU per message, for the real chat path and for a bare
 * Socket.io relay (its own process, the same rates, in the same run). The rate doubles from
 * BENCH_RATE_START until a step misses the goal (p99 ≤ BENCH_P99_MS, nothing lost or refused),
 * then BENCH_REFINE bisection steps narrow the highest rate that meets it. The goal rate
 * BENCH_GOAL_RATE (100 msg/s) is always measured. Before the steps, every pair sends one
 * message at BENCH_WARM_UP_RATE (not measured), so the steps see a running server's caches.
 *
 *   eval "$(./scripts/services.sh up)" && npm run bench:chat
 *   BENCH_SOCKETS=200 BENCH_PRELOAD=10000 BENCH_SECONDS=8 npm run bench:chat
 *   BENCH_PROF=/tmp/prof npm run bench:chat   (CPU profiles of the server processes)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { io as connect, type Socket } from 'socket.io-client';

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 1_000);
const PRELOAD = Number(process.env.BENCH_PRELOAD ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RATE_START = Number(process.env.BENCH_RATE_START ?? 25);
const GOAL_RATE = Number(process.env.BENCH_GOAL_RATE ?? 100);
const P99_GOAL_MS = Number(process.env.BENCH_P99_MS ?? 100);
const REFINE = Number(process.env.BENCH_REFINE ?? 2);
const MAX_RATE = Number(process.env.BENCH_MAX_RATE ?? 800);
const WARM_UP_RATE = Number(process.env.BENCH_WARM_UP_RATE ?? 25);
const DRAIN_MS = 10_000;

interface Stats {
  cpuMicros: number;
  rss: number;
  heapUsed: number;
  storeOps?: number;
  storeOpsByName?: Record<string, number>;
}

interface Result {
  label: string;
  rate: number;
  sent: number;
  received: number;
  failed: number;
  p50: number;
  p95: number;
  p99: number;
  perSecond: number;
  cpuPercent: number;
  /** The store's processes (FerretDB and PostgreSQL) and the whole machine, CPU % of one core while sending. */
  storeCpuPercent: number;
  machineBusyPercent: number;
  /** MongoDB commands per delivered message while sending (0 for the relay). */
  storeOpsPerMessage: number;
  storeOpsByName: Record<string, number>;
  /** Server CPU (user + system) per delivered message. */
  cpuMsPerMessage: number;
  refusals: Record<string, number>;
  elapsedSeconds: number;
}

/** CPU seconds of FerretDB and every PostgreSQL process, and the machine's busy and total ticks (Linux /proc). */
function systemCpu(): { storeSeconds: number; busy: number; total: number } {
  const TICKS_PER_SECOND = 100;
  let storeSeconds = 0;
  // BENCH_FERRETDB_PID names a FerretDB other than the one scripts/services.sh started.
  let ferretPid = process.env.BENCH_FERRETDB_PID ?? '';
  try {
    ferretPid ||= readFileSync(path.join(__dirname, '..', '.data', 'ferretdb', 'ferretdb.pid'), 'utf8').trim().split('\n')[0] ?? '';
  } catch {
    // No local FerretDB (MONGODB_URI elsewhere): only PostgreSQL is counted.
  }
  for (const dir of readdirSync('/proc')) {
    if (!/^\d+$/.test(dir)) continue;
    try {
      const comm = readFileSync(`/proc/${dir}/comm`, 'utf8').trim();
      if (comm !== 'postgres' && dir !== ferretPid) continue;
      const fields = readFileSync(`/proc/${dir}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      // utime + stime, and cutime + cstime: a PostgreSQL backend that exits between two readings
      // moves its CPU into the postmaster's children's time (it reaps them), so the sum never drops.
      storeSeconds += (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
    } catch {
      // The process ended while being read.
    }
  }
  const cpu = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  const total = cpu.reduce((x, y) => x + y, 0);
  return { storeSeconds, busy: total - idle, total };
}

class ServerProcess {
  private constructor(private readonly child: ChildProcess, readonly url: string) {}

  static start(mode: 'chat' | 'relay'): Promise<ServerProcess> {
    const child = fork(path.join(__dirname, 'server-process.ts'), [mode], {
      execArgv: ['--import', 'tsx', '--expose-gc', ...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_PROF] : [])],
      env: process.env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
      child.on('message', (message: { type: string; url?: string }) => {
        if (message.type === 'ready') resolve(new ServerProcess(child, message.url as string));
      });
    });
  }

  stats(): Promise<Stats> {
    return new Promise((resolve) => {
      const onMessage = (message: Stats & { type: string }) => {
        if (message.type !== 'stats') return;
        this.child.off('message', onMessage);
        resolve(message);
      };
      this.child.on('message', onMessage);
      this.child.send('stats');
    });
  }

  seed(n: number, preload: number): Promise<{ users: { id: string; token: string }[]; conversations: string[]; messages: number }> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: { type: string; error?: string; users?: { id: string; token: string }[]; conversations?: string[]; messages?: number }) => {
        if (message.type !== 'seeded' && message.type !== 'seed-failed') return;
        this.child.off('message', onMessage);
        if (message.type === 'seed-failed') reject(new Error(message.error));
        else resolve({ users: message.users ?? [], conversations: message.conversations ?? [], messages: message.messages ?? 0 });
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'seed', n, preload });
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.child.removeAllListeners('exit');
      this.child.once('exit', () => resolve());
      this.child.send('stop');
    });
  }
}

async function inBatches<T, R>(items: T[], size: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(...(await Promise.all(items.slice(i, i + size).map((item, j) => work(item, i + j)))));
  }
  return out;
}

function openSocket(url: string, auth: Record<string, unknown>): Promise<Socket> {
  const socket = connect(url, { auth, transports: ['websocket'], reconnection: false });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

const percentile = (sorted: number[], p: number) => (sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number) : NaN);

interface Pair {
  send: (id: string) => Promise<{ ok: boolean; code?: string }>;
}

/** Where deliveries are timed: one listener per receiver for the whole run, steps reset it. */
class Tracker {
  sentAt = new Map<string, number>();
  latencies: number[] = [];
  onMessage = (id: string) => {
    const started = this.sentAt.get(id);
    if (started === undefined) return;
    this.sentAt.delete(id);
    this.latencies.push(performance.now() - started);
  };
  reset() {
    this.sentAt.clear();
    this.latencies = [];
  }
}

/** One step: sends at `rate` msg/s in total across pairs for SECONDS and measures until every message arrived or the drain ends. */
async function measure(label: string, rate: number, server: ServerProcess, pairs: Pair[], tracker: Tracker, count = Math.round(rate * SECONDS)): Promise<Result> {
  tracker.reset();
  const refusals: Record<string, number> = {};
  const connected = await server.stats();
  const system = systemCpu();
  const started = performance.now();
  const total = count;
  let sent = 0;
  let failed = 0;
  const pending: Promise<void>[] = [];
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    for (; sent < due; sent += 1) {
      const pair = pairs[sent % pairs.length] as Pair;
      const id = `${label}-${rate}-${sent}-${Date.now()}`;
      tracker.sentAt.set(id, performance.now());
      pending.push(pair.send(id).then((ack) => {
        if (ack.ok) return;
        failed += 1;
        refusals[ack.code ?? '?'] = (refusals[ack.code ?? '?'] ?? 0) + 1;
      }));
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const sendingSeconds = (performance.now() - started) / 1000;
  const systemAfterSending = systemCpu();
  const drainUntil = performance.now() + DRAIN_MS;
  while (tracker.latencies.length + failed < total && performance.now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 20));
  await Promise.all(pending);
  const elapsed = (performance.now() - started) / 1000;
  const after = await server.stats();
  const latencies = [...tracker.latencies].sort((a, b) => a - b);
  const delivered = Math.max(1, latencies.length);
  return {
    label,
    rate,
    sent: total,
    received: latencies.length,
    failed,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    perSecond: latencies.length / elapsed,
    cpuPercent: ((after.cpuMicros - connected.cpuMicros) / 1e6 / elapsed) * 100,
    storeCpuPercent: ((systemAfterSending.storeSeconds - system.storeSeconds) / sendingSeconds) * 100,
    machineBusyPercent: ((systemAfterSending.busy - system.busy) / Math.max(1, systemAfterSending.total - system.total)) * 100,
    storeOpsPerMessage: ((after.storeOps ?? 0) - (connected.storeOps ?? 0)) / delivered,
    storeOpsByName: Object.fromEntries(
      Object.entries(after.storeOpsByName ?? {}).map(([name, count]) => [name, (count - (connected.storeOpsByName?.[name] ?? 0)) / delivered]),
    ),
    cpuMsPerMessage: (after.cpuMicros - connected.cpuMicros) / 1000 / delivered,
    refusals,
    elapsedSeconds: elapsed,
  };
}

const meetsGoal = (r: Result) => r.received === r.sent && r.failed === 0 && r.p99 <= P99_GOAL_MS;

/**
 * The step search: doubling from RATE_START until a step misses the goal (or MAX_RATE), the goal
 * rate always among the steps, then REFINE bisections between the best passing and the first
 * failing rate. Steps run against one prepared server, so the preload is paid once.
 */
async function stepSearch(run: (rate: number) => Promise<Result>): Promise<{ steps: Result[]; best: Result | null }> {
  const steps: Result[] = [];
  const done = new Map<number, Result>();
  const step = async (rate: number) => {
    const known = done.get(rate);
    if (known) return known;
    const result = await run(rate);
    done.set(rate, result);
    steps.push(result);
    console.error(`  ${result.label} ${rate} msg/s: p99 ${fmt(result.p99)} ms, ${result.received}/${result.sent} delivered, ${result.failed} failed`);
    // Let the store settle (batched summaries, late acks) before the next step.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    return result;
  };
  let ok = 0;
  let bad = 0;
  for (let rate = RATE_START; rate <= MAX_RATE; rate *= 2) {
    if (meetsGoal(await step(rate))) ok = rate;
    else {
      bad = rate;
      break;
    }
  }
  await step(GOAL_RATE);
  if (bad) {
    for (let i = 0; i < REFINE && bad - ok > 2; i += 1) {
      const mid = Math.round((ok + bad) / 2);
      if (meetsGoal(await step(mid))) ok = mid;
      else bad = mid;
    }
  }
  // Nothing passed: halve down until a step does (or 1 msg/s), so the run names a sustainable rate.
  for (let rate = Math.floor(Math.min(...done.keys()) / 2); rate >= 1 && ![...done.values()].some(meetsGoal); rate = Math.floor(rate / 2)) await step(rate);
  const passing = [...done.values()].filter(meetsGoal).sort((a, b) => b.rate - a.rate);
  return { steps: steps.sort((a, b) => a.rate - b.rate), best: passing[0] ?? null };
}

async function runChat(): Promise<{ steps: Result[]; best: Result | null; stored: number; idlePercent: number }> {
  const server = await ServerProcess.start('chat');
  try {
    const seededAt = performance.now();
    const { users, conversations, messages } = await server.seed(SOCKETS, PRELOAD);
    console.error(`chat: seeded ${users.length} users, ${conversations.length} conversations, ${messages} messages stored in ${fmt((performance.now() - seededAt) / 1000, 0)} s`);
    const sockets = await inBatches(users, 50, (user) => openSocket(server.url, { token: user.token }));
    const tracker = new Tracker();
    const pairs: Pair[] = conversations.map((conversationId, i) => {
      const sender = sockets[2 * i] as Socket;
      const receiver = sockets[2 * i + 1] as Socket;
      receiver.on('chat:message', (message: { text: string }) => tracker.onMessage(message.text));
      return {
        send: async (id) => {
          const ack = (await sender
            .timeout(30_000)
            .emitWithAck('chat:send', { conversationId, clientMessageId: id, text: id })
            .catch(() => ({ ok: false, error: { code: 'no ack within 30 s' } }))) as { ok: boolean; error?: { code: string } };
          return { ok: Boolean(ack.ok), code: ack.error?.code };
        },
      };
    });
    // Let the connect-time work (presence announcements) finish before the first step.
    await new Promise((resolve) => setTimeout(resolve, Math.max(3_000, SOCKETS * 10)));
    // What the connected sockets cost with nothing sent (heartbeats, presence): subtracted for the net CPU per message.
    const idleFrom = await server.stats();
    const idleStarted = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const idlePercent = (((await server.stats()).cpuMicros - idleFrom.cpuMicros) / 1e6 / ((performance.now() - idleStarted) / 1000)) * 100;
    // Warm-up, not measured: one message per pair, so the steps measure a running server (each
    // conversation's participants cached and its numbering known in process) and not the first
    // message of every conversation, which reads the conversation once. The relay has nothing to warm.
    const warmedAt = performance.now();
    const warm = await measure('warm-up', WARM_UP_RATE, server, pairs, tracker, pairs.length);
    console.error(`chat: warm-up ${warm.received}/${warm.sent} messages at ${WARM_UP_RATE} msg/s in ${fmt((performance.now() - warmedAt) / 1000, 0)} s (not measured)`);
    const search = await stepSearch((rate) => measure('chat', rate, server, pairs, tracker));
    for (const socket of sockets) socket.close();
    return { ...search, stored: messages, idlePercent };
  } finally {
    await server.stop();
  }
}

async function runRelay(rates: number[]): Promise<Result[]> {
  const server = await ServerProcess.start('relay');
  try {
    const sockets = await inBatches(Array.from({ length: SOCKETS }, (_, i) => i), 50, (i) => openSocket(server.url, { pair: Math.floor(i / 2) }));
    const tracker = new Tracker();
    const pairs: Pair[] = Array.from({ length: SOCKETS / 2 }, (_, i) => {
      const sender = sockets[2 * i] as Socket;
      (sockets[2 * i + 1] as Socket).on('msg', (message: { text: string }) => tracker.onMessage(message.text));
      return {
        send: async (id) => {
          const ack = (await sender.timeout(30_000).emitWithAck('msg', { text: id }).catch(() => ({ ok: false }))) as { ok: boolean };
          return { ok: Boolean(ack.ok), code: ack.ok ? undefined : 'no ack within 30 s' };
        },
      };
    });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const out: Result[] = [];
    for (const rate of rates) out.push(await measure('relay', rate, server, pairs, tracker));
    for (const socket of sockets) socket.close();
    return out;
  } finally {
    await server.stop();
  }
}

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

async function main(): Promise<void> {
  console.log(`chat benchmark: ${SOCKETS} sockets in pairs (one sender per pair), ${PRELOAD} messages stored before, ${SECONDS} s per step; goal p99 ≤ ${P99_GOAL_MS} ms with nothing lost`);
  const chat = await runChat();
  const relay = await runRelay(chat.steps.map((r) => r.rate));
  console.log(`\nmessages stored when sending started: ${chat.stored}; chat server Node CPU with ${SOCKETS} sockets and nothing sent: ${fmt(chat.idlePercent)}%`);
  console.log('(store CPU % = FerretDB and every PostgreSQL process on the machine, others\' included; machine busy % = all cores, everyone\'s work)');
  console.log('path   msg/s  sent  recv  fail  p50 ms  p95 ms  p99 ms  Node CPU %  CPU ms/msg  net of idle  store ops/msg  store CPU %  machine busy %');
  for (const r of chat.steps.flatMap((c, i) => [relay[i], c]).filter((r): r is Result => Boolean(r))) {
    const net = r.label === 'chat' ? ((r.cpuPercent - chat.idlePercent) * 10 * r.elapsedSeconds) / Math.max(1, r.received) : r.cpuMsPerMessage;
    console.log(
      `${r.label.padEnd(6)} ${String(r.rate).padStart(5)}  ${String(r.sent).padStart(4)}  ${String(r.received).padStart(4)}  ${String(r.failed).padStart(4)}  ${fmt(r.p50).padStart(6)}  ${fmt(r.p95).padStart(6)}  ${fmt(r.p99).padStart(6)}  ${fmt(r.cpuPercent).padStart(10)}  ${fmt(r.cpuMsPerMessage, 2).padStart(10)}  ${fmt(net, 2).padStart(11)}  ${fmt(r.storeOpsPerMessage).padStart(13)}  ${fmt(r.storeCpuPercent).padStart(11)}  ${fmt(r.machineBusyPercent).padStart(14)}`,
    );
    if (Object.keys(r.refusals).length) console.log(`       refused: ${Object.entries(r.refusals).map(([code, count]) => `${code} ${count}`).join(', ')}`);
  }
  const goal = chat.steps.find((r) => r.rate === GOAL_RATE);
  const byCommand = (r: Result) => Object.entries(r.storeOpsByName).filter(([, v]) => v > 0.005).sort((x, y) => y[1] - x[1]).map(([name, v]) => `${name} ${fmt(v, 2)}`).join(', ');
  if (chat.best) console.log(`chat store ops per message at ${chat.best.rate} msg/s (highest passing) by command and collection: ${byCommand(chat.best)}`);
  if (goal) console.log(`chat store ops per message at ${GOAL_RATE} msg/s by command and collection: ${byCommand(goal)}`);
  const relayBest = relay.filter(meetsGoal).sort((a, b) => b.rate - a.rate)[0];
  console.log(
    `highest rate meeting the goal (p99 ≤ ${P99_GOAL_MS} ms, nothing lost or refused): chat ${chat.best ? `${chat.best.rate} msg/s (p99 ${fmt(chat.best.p99)} ms)` : `none of the steps (lowest ${chat.steps[0]?.rate ?? '?'} msg/s)`}; ` +
      `relay ${relayBest ? `≥ ${relayBest.rate} msg/s (p99 ${fmt(relayBest.p99)} ms)` : 'none'} over the same steps`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
