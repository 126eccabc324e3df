/**
 * HTTP benchmark (figures, not a test). In one run: bare Express answering the health route's JSON,
 * and the app (production settings, rate limits out of the way, in its own process, on a database
 * it fills itself) serving the reads a mobile app makes most. Bare Express is loaded again right
 * before every row, and each row's share is against that neighbour: this machine's load drifts
 * between rows by more than the differences measured. For each: req/s, p50/p99 latency at
 * BENCH_CONNECTIONS connections, the share of bare Express, and the store round trips one request
 * costs, counted with the MongoDB driver's command monitoring (sequential requests after the load,
 * so the count does not depend on the machine's noise).
 *
 *   npm run bench:http
 *   BENCH_SECONDS=4 BENCH_USERS=2000 npm run bench:http
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
// Type only: the module itself is the child process's entry point and is never loaded here.
import type { Seeded } from './http-server';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SAMPLES = 20;

class ServerProcess {
  private constructor(private readonly child: ChildProcess, readonly url: string) {}

  static start(mode: 'express' | 'app'): Promise<ServerProcess> {
    const child = fork(path.join(__dirname, 'http-server.ts'), [mode], {
      execArgv: ['--import', 'tsx', ...(process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [])],
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

  ask<T>(request: unknown, answer: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: { type: string; error?: string }) => {
        if (message.type !== answer && message.type !== 'seed-failed') return;
        this.child.off('message', onMessage);
        if (message.type === 'seed-failed') reject(new Error(message.error));
        else resolve(message as T);
      };
      this.child.on('message', onMessage);
      this.child.send(request as never);
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

/** Issue 18's goals on this 2-core machine: share of bare Express and store round trips per request. */
const GOALS: Record<string, { share?: number; trips?: number }> = {
  'GET /api/system/health': { share: 70, trips: 0 },
  'GET /api/auth/me': { share: 20, trips: 1 },
  'GET /api/users/:id': { share: 20, trips: 1 },
  'GET /api/chat/conversations?limit=20 (20 conversations)': { share: 20, trips: 2 },
  'GET /api/chat/conversations/:id/messages?limit=50 (1,000 messages)': { share: 15, trips: 2 },
};

function goal(row: Row, share: number): string {
  const g = GOALS[row.name];
  if (!g) return 'none set';
  const parts: string[] = [];
  if (g.share !== undefined) parts.push(`≥ ${g.share}% ${share >= g.share ? 'met' : 'MISSED'}`);
  if (g.trips !== undefined && row.roundTrips !== null) parts.push(`${g.trips === 0 ? '0' : `≤ ${g.trips}`} trips ${row.roundTrips <= g.trips ? 'met' : 'MISSED'}`);
  return parts.join(', ');
}

interface Row {
  name: string;
  reqPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  roundTrips: number | null;
  detail?: string;
  /** Store commands issued outside any request while this row was loaded (jobs, heartbeats): noise to know about. */
  background?: number;
  /** Bare Express's req/s loaded just before this row: the row's yardstick. */
  bare?: number;
}

async function load(url: string, token?: string): Promise<{ reqPerSec: number; p50: number; p99: number; errors: number }> {
  const headers = token ? { authorization: `Bearer ${token}` } : undefined;
  // A short warm-up fills caches and JIT before the measured run.
  await autocannon({ url, connections: CONNECTIONS, duration: 1, headers });
  const result = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, headers });
  return {
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

async function roundTrips(server: ServerProcess, url: string, token: string | undefined): Promise<{ perRequest: number; detail: string }> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  await fetch(url, { headers });
  await server.ask({ type: 'reset-commands' }, 'commands-reset');
  for (let i = 0; i < SAMPLES; i += 1) {
    const res = await fetch(url, { headers });
    if (!res.ok) throw new Error(`${url}: ${res.status}`);
    await res.arrayBuffer();
  }
  const counted = await server.ask<{ total: number; byName: Record<string, number> }>({ type: 'commands' }, 'commands');
  const detail = Object.entries(counted.byName)
    .map(([name, n]) => `${name} ×${(n / SAMPLES).toFixed(2)}`)
    .join(', ');
  return { perRequest: counted.total / SAMPLES, detail };
}

const fmt = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

async function main(): Promise<void> {
  console.log(`HTTP benchmark: ${CONNECTIONS} connections, ${SECONDS} s per request (after 1 s of warm-up), autocannon`);
  const rows: Row[] = [];
  // Idle between its loads (an idle process costs the machine nothing).
  const bare = await ServerProcess.start('express');
  const bareNow = async () => (await load(`${bare.url}/hello`)).reqPerSec;
  rows.push({ name: 'bare Express hello (same JSON)', ...(await load(`${bare.url}/hello`)), roundTrips: 0 });

  const app = await ServerProcess.start('app');
  try {
    const started = Date.now();
    const seeded = await app.ask<Seeded>({ type: 'seed' }, 'seeded');
    console.log(`seeded in ${((Date.now() - started) / 1000).toFixed(1)} s: ${Object.entries(seeded.counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    if (seeded.settled) console.log(`background work after the seed: ${seeded.settled.quiet ? 'settled' : 'STILL RUNNING'} after ${(seeded.settled.waitedMs / 1000).toFixed(1)} s`);
    const targets: { name: string; path: string; auth: boolean }[] = [
      { name: 'GET /api/system/health', path: '/api/system/health', auth: false },
      { name: 'GET /api/auth/me', path: '/api/auth/me', auth: true },
      { name: 'GET /api/users/:id', path: `/api/users/${seeded.profileId}`, auth: true },
      { name: 'GET /api/chat/conversations?limit=20 (20 conversations)', path: '/api/chat/conversations?limit=20', auth: true },
      { name: 'GET /api/chat/conversations/:id/messages?limit=50 (1,000 messages)', path: `/api/chat/conversations/${seeded.conversationId}/messages?limit=50`, auth: true },
      { name: 'GET /api/notifications?limit=20', path: '/api/notifications?limit=20', auth: true },
      { name: 'GET /api/offers?limit=20', path: '/api/offers?limit=20', auth: true },
    ];
    for (const target of targets) {
      const url = `${app.url}${target.path}`;
      const token = target.auth ? seeded.token : undefined;
      const yardstick = await bareNow();
      const before = await app.ask<{ count: number }>({ type: 'background' }, 'background');
      const measured = await load(url, token);
      const after = await app.ask<{ count: number }>({ type: 'background' }, 'background');
      const trips = await roundTrips(app, url, token);
      rows.push({ name: target.name, ...measured, roundTrips: trips.perRequest, detail: trips.detail, background: after.count - before.count, bare: yardstick });
    }
  } finally {
    await app.stop();
    await bare.stop();
  }

  console.log('\n| request | req/s | p50 ms | p99 ms | bare Express just before, req/s | share of bare Express | store round trips / request | goal (share, trips) | errors | background store commands during the load |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) {
    const base = row.bare ?? row.reqPerSec;
    const share = (row.reqPerSec / base) * 100;
    const target = row === rows[0] ? '100% (the base)' : goal(row, share);
    console.log(`| ${row.name} | ${fmt(row.reqPerSec)} | ${fmt(row.p50, 1)} | ${fmt(row.p99, 1)} | ${fmt(base)} | ${fmt(share, 1)}% | ${row.roundTrips === null ? 'n/a' : fmt(row.roundTrips, 2)} | ${target} | ${row.errors} | ${row.background ?? 0} |`);
  }
  console.log(`\nload average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} cores (a shared machine: compare shares within one run)`);
  console.log('\nround trips by command (per request):');
  for (const row of rows) if (row.detail) console.log(`  ${row.name}: ${row.detail}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
