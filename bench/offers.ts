/**
 * Offers benchmark (figures, not a test). N negotiations at once, each offer:create → offer:respond
 * counter → offer:respond accept over sockets (every step one guarded write, an offer message in
 * the conversation and offer:updated to both parties; accept also makes the order), then, in the
 * same run and on the same server, plain chat:send from the same N pairs for comparison. Prints
 * per-step ack latency percentiles, throughput, store operations and server CPU per step.
 *
 *   eval "$(./scripts/services.sh up)" && npm run bench:offers
 *   BENCH_NEGOTIATIONS=50 BENCH_ROUNDS=3 npm run bench:offers
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { io as connect, type Socket } from 'socket.io-client';

const NEGOTIATIONS = Number(process.env.BENCH_NEGOTIATIONS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

interface Stats {
  cpuMicros: number;
  storeOps?: number;
}

class ServerProcess {
  private constructor(private readonly child: ChildProcess, readonly url: string) {}

  static start(): Promise<ServerProcess> {
    // The real app, as bench:chat runs it (bench/server-process.ts, mode `chat`: every module is mounted).
    const child = fork(path.join(__dirname, 'server-process.ts'), ['chat'], {
      execArgv: ['--import', 'tsx', '--expose-gc'],
      env: process.env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
      child.on('message', (message: { type: string; url?: string }) => {
        if (message.type === 'ready') resolve(new ServerProcess(child, message.url as string));
      });
    });
  }

  private ask<T>(request: unknown, answer: (message: { type: string }) => boolean): Promise<T> {
    return new Promise((resolve) => {
      const onMessage = (message: { type: string }) => {
        if (!answer(message)) return;
        this.child.off('message', onMessage);
        resolve(message as T);
      };
      this.child.on('message', onMessage);
      this.child.send(request as never);
    });
  }

  stats(): Promise<Stats> {
    return this.ask<Stats>('stats', (m) => m.type === 'stats');
  }

  async seed(n: number): Promise<{ users: { id: string; token: string }[]; conversations: string[] }> {
    const message = await this.ask<{ type: string; error?: string; users: { id: string; token: string }[]; conversations: string[] }>(
      { type: 'seed', n },
      (m) => m.type === 'seeded' || m.type === 'seed-failed',
    );
    if (message.type === 'seed-failed') throw new Error(message.error);
    return message;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.child.removeAllListeners('exit');
      this.child.once('exit', () => resolve());
      this.child.send('stop');
    });
  }
}

function openSocket(url: string, token: string): Promise<Socket> {
  const socket = connect(url, { auth: { token }, transports: ['websocket'], reconnection: false });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

type Ack = { ok: boolean; data?: { id: string; version: number }; error?: { code: string } };
const percentile = (sorted: number[], p: number) => (sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number) : NaN);
const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

const failures = new Map<string, number>();
async function timed(samples: number[], call: () => Promise<Ack>): Promise<Ack> {
  const started = performance.now();
  const ack = await call().catch((): Ack => ({ ok: false, error: { code: 'no ack within 30 s' } }));
  if (ack.ok) samples.push(performance.now() - started);
  else failures.set(ack.error?.code ?? '?', (failures.get(ack.error?.code ?? '?') ?? 0) + 1);
  return ack;
}

const emit = (socket: Socket, event: string, payload: unknown) => socket.timeout(30_000).emitWithAck(event, payload) as Promise<Ack>;

interface Row {
  label: string;
  samples: number[];
  seconds: number;
  storeOps: number;
  cpuMs: number;
}

function row(r: Row): string {
  const sorted = [...r.samples].sort((a, b) => a - b);
  const n = Math.max(1, sorted.length);
  return `${r.label.padEnd(22)} ${String(sorted.length).padStart(5)}  ${fmt(percentile(sorted, 50)).padStart(7)}  ${fmt(percentile(sorted, 95)).padStart(7)}  ${fmt(percentile(sorted, 99)).padStart(7)}  ${fmt(sorted.length / r.seconds).padStart(7)}  ${fmt(r.storeOps / n).padStart(9)}  ${fmt(r.cpuMs / n, 2).padStart(10)}`;
}

async function main(): Promise<void> {
  console.log(`offers benchmark: ${NEGOTIATIONS} negotiations at once (create → counter → accept), ${ROUNDS} rounds; then chat:send from the same pairs`);
  const server = await ServerProcess.start();
  try {
    const { users, conversations } = await server.seed(NEGOTIATIONS * 2);
    const sockets: Socket[] = [];
    for (let i = 0; i < users.length; i += 50) sockets.push(...(await Promise.all(users.slice(i, i + 50).map((u) => openSocket(server.url, u.token)))));
    await new Promise((resolve) => setTimeout(resolve, 3_000));

    const steps = { create: [] as number[], counter: [] as number[], accept: [] as number[], negotiation: [] as number[] };
    const before = await server.stats();
    const started = performance.now();
    for (let round = 0; round < ROUNDS; round += 1) {
      await Promise.all(conversations.map(async (conversationId, i) => {
        const vendor = sockets[2 * i] as Socket;
        const buyer = sockets[2 * i + 1] as Socket;
        const t0 = performance.now();
        const item = (unitPrice: number) => [{ name: 'Cumin seeds', quantity: 500, unit: 'kg', unitPrice }];
        const created = await timed(steps.create, () => emit(vendor, 'offer:create', {
          conversationId, vendorId: users[2 * i]?.id, buyerId: users[2 * i + 1]?.id, currency: 'INR', items: item(24_000),
          delivery: { place: 'Pune', leadTimeDays: 10 }, payment: { kind: 'prepaid' }, idempotencyKey: `bench-${round}-${i}`,
        }));
        if (!created.ok || !created.data) return;
        const countered = await timed(steps.counter, () => emit(buyer, 'offer:respond', { offerId: created.data?.id, action: 'counter', version: 1, items: item(22_500) }));
        if (!countered.ok) return;
        const accepted = await timed(steps.accept, () => emit(vendor, 'offer:respond', { offerId: created.data?.id, action: 'accept', version: 2 }));
        if (accepted.ok) steps.negotiation.push(performance.now() - t0);
      }));
    }
    const offersSeconds = (performance.now() - started) / 1000;
    const afterOffers = await server.stats();
    const stepCount = steps.create.length + steps.counter.length + steps.accept.length;

    // Plain chat sends from the same pairs, the same number of calls, the same concurrency.
    const sends: number[] = [];
    const chatStarted = performance.now();
    for (let round = 0; round < ROUNDS; round += 1) {
      await Promise.all(conversations.map(async (conversationId, i) => {
        for (let k = 0; k < 3; k += 1) {
          const sender = sockets[2 * i + (k % 2)] as Socket;
          await timed(sends, () => emit(sender, 'chat:send', { conversationId, clientMessageId: `bench-${round}-${i}-${k}`, text: `price ${k}` }));
        }
      }));
    }
    const chatSeconds = (performance.now() - chatStarted) / 1000;
    const afterChat = await server.stats();

    const offerOps = (afterOffers.storeOps ?? 0) - (before.storeOps ?? 0);
    const offerCpu = (afterOffers.cpuMicros - before.cpuMicros) / 1000;
    const share = (samples: number[]) => samples.length / Math.max(1, stepCount);
    console.log('\nstep                    acks   p50 ms   p95 ms   p99 ms  acks/s  store ops  CPU ms/ack');
    for (const [label, samples] of [['offer:create', steps.create], ['offer:respond counter', steps.counter], ['offer:respond accept', steps.accept]] as const) {
      // Store operations and CPU are measured over the whole phase and shared out by acks.
      console.log(row({ label, samples, seconds: offersSeconds, storeOps: offerOps * share(samples), cpuMs: offerCpu * share(samples) }));
    }
    console.log(row({ label: 'whole negotiation', samples: steps.negotiation, seconds: offersSeconds, storeOps: offerOps, cpuMs: offerCpu }));
    console.log(row({ label: 'chat:send (same pairs)', samples: sends, seconds: chatSeconds, storeOps: (afterChat.storeOps ?? 0) - (afterOffers.storeOps ?? 0), cpuMs: (afterChat.cpuMicros - afterOffers.cpuMicros) / 1000 }));
    console.log(`\nnegotiations: ${steps.negotiation.length} of ${NEGOTIATIONS * ROUNDS} completed in ${fmt(offersSeconds)} s (${fmt(steps.negotiation.length / offersSeconds, 2)}/s)`);
    if (failures.size) console.log(`refused: ${[...failures].map(([code, count]) => `${code} ${count}`).join(', ')}`);
    for (const socket of sockets) socket.close();
  } finally {
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
