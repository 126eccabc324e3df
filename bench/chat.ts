/**
 * Chat benchmark (figures, not a test). For each N: N socket clients in pairs, one side of each
 * pair sends at a fixed total rate; prints sender→receiver latency percentiles, delivered messages
 * per second, server CPU and memory per connection, for the real chat path and for a bare
 * Socket.io relay measured in the same run, and their ratio.
 *
 *   eval "$(./scripts/services.sh up)" && npm run bench:chat
 *   BENCH_SIZES=200,1000 BENCH_RATE=20 BENCH_SECONDS=15 npm run bench:chat
 *   BENCH_PROF=/tmp/prof npm run bench:chat   (CPU profiles of the server processes)
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { io as connect, type Socket } from 'socket.io-client';

const SIZES = (process.env.BENCH_SIZES ?? '200,1000').split(',').map(Number);
const RATE = Number(process.env.BENCH_RATE ?? 20);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
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
  n: number;
  sent: number;
  received: number;
  failed: number;
  p50: number;
  p95: number;
  p99: number;
  perSecond: number;
  cpuPercent: number;
  bytesPerConnection: number;
  rssMiB: number;
  /** MongoDB commands per delivered message while sending (0 for the relay). */
  storeOpsPerMessage: number;
  storeOpsByName: Record<string, number>;
  /** Server CPU (user + system) per delivered message. */
  cpuMsPerMessage: number;
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

  seed(n: number): Promise<{ users: { id: string; token: string }[]; conversations: string[] }> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: { type: string; error?: string; users?: { id: string; token: string }[]; conversations?: string[] }) => {
        if (message.type !== 'seeded' && message.type !== 'seed-failed') return;
        this.child.off('message', onMessage);
        if (message.type === 'seed-failed') reject(new Error(message.error));
        else resolve({ users: message.users ?? [], conversations: message.conversations ?? [] });
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'seed', n });
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
  sender: Socket;
  receiver: Socket;
  send: (id: string) => Promise<boolean>;
}

/** Sends at a fixed total rate across pairs and measures until every message arrived or the drain ends. */
async function measure(label: string, n: number, server: ServerProcess, pairs: Pair[], receive: (onMessage: (id: string) => void) => void, baseline: Stats): Promise<Result> {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  receive((id) => {
    const started = sentAt.get(id);
    if (started === undefined) return;
    sentAt.delete(id);
    latencies.push(performance.now() - started);
  });
  // Let the connect-time work (presence announcements) finish before the clock starts.
  await new Promise((resolve) => setTimeout(resolve, Math.max(3_000, n * 30)));
  const connected = await server.stats();
  const started = performance.now();
  const total = Math.round(RATE * SECONDS);
  let sent = 0;
  let failed = 0;
  const pending: Promise<void>[] = [];
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * RATE));
    for (; sent < due; sent += 1) {
      const pair = pairs[sent % pairs.length] as Pair;
      const id = `${label}-${n}-${sent}`;
      sentAt.set(id, performance.now());
      pending.push(pair.send(id).then((ok) => {
        if (!ok) failed += 1;
      }));
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const drainUntil = performance.now() + DRAIN_MS;
  while (latencies.length + failed < total && performance.now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 20));
  await Promise.all(pending);
  const elapsed = (performance.now() - started) / 1000;
  const after = await server.stats();
  latencies.sort((a, b) => a - b);
  return {
    label,
    n,
    sent: total,
    received: latencies.length,
    failed,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    perSecond: latencies.length / elapsed,
    cpuPercent: ((after.cpuMicros - connected.cpuMicros) / 1e6 / elapsed) * 100,
    // JS heap after a forced GC: RSS moves in allocator-sized steps and is too coarse at these sizes.
    bytesPerConnection: (connected.heapUsed - baseline.heapUsed) / n,
    rssMiB: connected.rss / 1024 / 1024,
    storeOpsPerMessage: ((after.storeOps ?? 0) - (connected.storeOps ?? 0)) / Math.max(1, latencies.length),
    storeOpsByName: Object.fromEntries(
      Object.entries(after.storeOpsByName ?? {}).map(([name, count]) => [name, (count - (connected.storeOpsByName?.[name] ?? 0)) / Math.max(1, latencies.length)]),
    ),
    cpuMsPerMessage: (after.cpuMicros - connected.cpuMicros) / 1000 / Math.max(1, latencies.length),
  };
}

async function runChat(n: number): Promise<Result> {
  const server = await ServerProcess.start('chat');
  try {
    const { users, conversations } = await server.seed(n);
    const baseline = await server.stats();
    const sockets = await inBatches(users, 50, (user) => openSocket(server.url, { token: user.token }));
    const pairs: Pair[] = conversations.map((conversationId, i) => {
      const sender = sockets[2 * i] as Socket;
      return {
        sender,
        receiver: sockets[2 * i + 1] as Socket,
        send: async (id) => {
          const ack = (await sender
            .timeout(30_000)
            .emitWithAck('chat:send', { conversationId, clientMessageId: id, text: id })
            .catch(() => ({ ok: false, error: { code: 'no ack within 30 s' } }))) as { ok: boolean; error?: { code: string } };
          if (!ack.ok) refusals.set(ack.error?.code ?? '?', (refusals.get(ack.error?.code ?? '?') ?? 0) + 1);
          return Boolean(ack.ok);
        },
      };
    });
    const result = await measure('chat', n, server, pairs, (onMessage) => {
      pairs.forEach((pair) => pair.receiver.on('chat:message', (message: { text: string }) => onMessage(message.text)));
    }, baseline);
    for (const socket of sockets) socket.close();
    return result;
  } finally {
    await server.stop();
  }
}

async function runRelay(n: number): Promise<Result> {
  const server = await ServerProcess.start('relay');
  try {
    const baseline = await server.stats();
    const sockets = await inBatches(Array.from({ length: n }, (_, i) => i), 50, (i) => openSocket(server.url, { pair: Math.floor(i / 2) }));
    const pairs: Pair[] = Array.from({ length: n / 2 }, (_, i) => {
      const sender = sockets[2 * i] as Socket;
      return {
        sender,
        receiver: sockets[2 * i + 1] as Socket,
        send: async (id) => {
          const ack = await sender.timeout(30_000).emitWithAck('msg', { text: id }).catch(() => ({ ok: false }));
          return Boolean(ack.ok);
        },
      };
    });
    const result = await measure('relay', n, server, pairs, (onMessage) => {
      pairs.forEach((pair) => pair.receiver.on('msg', (message: { text: string }) => onMessage(message.text)));
    }, baseline);
    for (const socket of sockets) socket.close();
    return result;
  } finally {
    await server.stop();
  }
}

// Why chat sends failed, by error code (or no ack at all): shed load should be answered, not silent.
const refusals = new Map<string, number>();

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

async function main(): Promise<void> {
  console.log(`chat benchmark: ${RATE} msg/s in total for ${SECONDS} s, sizes ${SIZES.join(', ')} (clients in pairs, one sender per pair)`);
  const rows: Result[] = [];
  for (const n of SIZES) {
    const relay = await runRelay(n);
    const chat = await runChat(n);
    rows.push(relay, chat);
    console.log(`\nN=${n}`);
    console.log('path   sent  recv  fail  p50 ms  p95 ms  p99 ms  msg/s  server CPU %  CPU ms/msg  store ops/msg  heap KiB/conn  server RSS MiB');
    for (const r of [relay, chat]) {
      console.log(
        `${r.label.padEnd(6)} ${String(r.sent).padStart(4)}  ${String(r.received).padStart(4)}  ${String(r.failed).padStart(4)}  ${fmt(r.p50).padStart(6)}  ${fmt(r.p95).padStart(6)}  ${fmt(r.p99).padStart(6)}  ${fmt(r.perSecond).padStart(5)}  ${fmt(r.cpuPercent).padStart(12)}  ${fmt(r.cpuMsPerMessage, 2).padStart(10)}  ${fmt(r.storeOpsPerMessage).padStart(13)}  ${fmt(r.bytesPerConnection / 1024).padStart(13)}  ${fmt(r.rssMiB).padStart(14)}`,
      );
    }
    if (refusals.size) console.log(`chat sends refused: ${[...refusals].map(([code, count]) => `${code} ${count}`).join(', ')}`);
    refusals.clear();
    console.log(`chat store ops per message by command: ${Object.entries(chat.storeOpsByName).filter(([, v]) => v > 0).map(([name, v]) => `${name} ${fmt(v, 2)}`).join(', ')}`);
    console.log(
      `ratio chat/relay: p50 ×${fmt(chat.p50 / relay.p50)}  p95 ×${fmt(chat.p95 / relay.p95)}  p99 ×${fmt(chat.p99 / relay.p99)}  CPU ×${fmt(chat.cpuPercent / relay.cpuPercent)}  memory/connection ×${fmt(chat.bytesPerConnection / relay.bytesPerConnection)}`,
    );
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
