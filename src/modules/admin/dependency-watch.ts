import type { Connection } from 'mongoose';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Logger } from '../../platform/logger';
import { pingMongo } from '../../platform/mongo';
import { pingPostgres } from '../../platform/postgres';
import { pingRedis } from '../../platform/redis';
import type { SystemEventDoc } from './admin.model';

export type Dependency = 'mongodb' | 'postgresql' | 'redis';

export interface DependencyChange {
  dependency: Dependency;
  down: boolean;
  /** Who noticed: the periodic probe (the readiness check's pings), a client's connection event, or analytics' writes. */
  via: 'probe' | 'connection' | 'analytics';
  error?: string | null;
  buffered?: number;
}

export interface DependencyWatch {
  /** A change seen elsewhere (analytics' PostgreSQL writes); recorded only when it changes the known state. */
  report(change: DependencyChange): void;
  /** Probes every dependency once and records what changed (also on the timer). */
  check(): Promise<void>;
  /** Writes the events MongoDB could not take yet (it may be the one that was down). */
  flush(): Promise<void>;
  /** What this process believes now. */
  state(): Partial<Record<Dependency, 'up' | 'down'>>;
  start(): void;
  stop(): Promise<void>;
}

const PROBE_TIMEOUT_MS = 2_000;
/** Events waiting for MongoDB at most (a long outage of MongoDB itself is the only way to fill it). */
const MAX_PENDING = 200;

async function probe(ping: () => Promise<void>): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), PROBE_TIMEOUT_MS);
      }),
    ]);
    return null;
  } catch (err) {
    return (err instanceof Error ? err.message : String(err)).slice(0, 300) || 'unreachable';
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Dependency outages and recoveries as system events. Sources: a probe every `everyMs` with the
 * readiness check's pings (MongoDB, PostgreSQL, Redis; down after two failed probes in a row), the
 * clients' own connection events (MongoDB disconnected/reconnected, Redis ready), and analytics'
 * PostgreSQL writes. All
 * feed one state per dependency, and only a change is recorded (down, then up), so several
 * sources noticing the same outage make one pair of events. Each process records what it sees
 * (the event names the process). While MongoDB is down its own events wait in memory (bounded)
 * and are written, with the time they happened, once it answers again.
 */
export function createDependencyWatch(deps: {
  mongo: Connection;
  postgres: Pool | null;
  redis: Redis | null;
  everyMs: number;
  write: (doc: Pick<SystemEventDoc, 'at' | 'kind' | 'details'>) => Promise<unknown>;
  clock: () => Date;
  logger: Logger;
}): DependencyWatch {
  const { mongo, postgres, redis, everyMs, clock, logger } = deps;
  const known: Partial<Record<Dependency, 'up' | 'down'>> = {};
  const failedProbes: Partial<Record<Dependency, number>> = {};
  let pending: Array<Pick<SystemEventDoc, 'at' | 'kind' | 'details'>> = [];
  let timer: NodeJS.Timeout | null = null;
  let checking: Promise<void> | null = null;
  let flushing: Promise<void> | null = null;
  let stopped = false;
  const detach: Array<() => void> = [];

  const probes: Array<[Dependency, () => Promise<void>]> = [['mongodb', () => pingMongo(mongo)]];
  if (postgres) probes.push(['postgresql', () => pingPostgres(postgres)]);
  if (redis) probes.push(['redis', () => pingRedis(redis)]);

  async function flush(): Promise<void> {
    if (flushing) return flushing;
    flushing = (async () => {
      while (pending.length > 0) {
        const next = pending[0] as (typeof pending)[number];
        try {
          await deps.write(next);
        } catch {
          return; // MongoDB is not answering: the next check tries again
        }
        pending = pending.slice(1);
      }
    })().finally(() => {
      flushing = null;
    });
    return flushing;
  }

  function report(change: DependencyChange): void {
    if (stopped) return;
    const next = change.down ? 'down' : 'up';
    const before = known[change.dependency];
    known[change.dependency] = next;
    // The first observation of a healthy dependency is not news; a process starting during an outage is.
    if (before === next || (before === undefined && next === 'up')) return;
    const details: SystemEventDoc['details'] = { dependency: change.dependency, via: change.via };
    if (change.down) details.error = change.error?.slice(0, 300) ?? null;
    if (change.buffered !== undefined) details.buffered = change.buffered;
    if (change.down) logger.warn('Dependency down', details);
    else logger.info('Dependency recovered', details);
    if (pending.length >= MAX_PENDING) pending = pending.slice(1);
    pending.push({ at: clock(), kind: change.down ? 'dependency.down' : 'dependency.up', details });
    void flush();
  }

  async function check(): Promise<void> {
    if (checking) return checking;
    checking = (async () => {
      const results = await Promise.all(probes.map(async ([dependency, ping]) => [dependency, await probe(ping)] as const));
      for (const [dependency, error] of results) {
        // A single slow or failed ping on a busy machine is not an outage: two in a row are.
        failedProbes[dependency] = error === null ? 0 : (failedProbes[dependency] ?? 0) + 1;
        if (error === null) report({ dependency, down: false, via: 'probe' });
        else if ((failedProbes[dependency] ?? 0) >= 2) report({ dependency, down: true, via: 'probe', error });
      }
      await flush();
    })().finally(() => {
      checking = null;
    });
    return checking;
  }

  function on(emitter: { on(event: string, fn: () => void): unknown; off(event: string, fn: () => void): unknown }, event: string, fn: () => void) {
    emitter.on(event, fn);
    detach.push(() => emitter.off(event, fn));
  }

  return {
    report,
    check,
    flush,
    state: () => ({ ...known }),
    start() {
      if (timer || stopped) return;
      on(mongo, 'disconnected', () => report({ dependency: 'mongodb', down: true, via: 'connection', error: 'disconnected' }));
      on(mongo, 'reconnected', () => report({ dependency: 'mongodb', down: false, via: 'connection' }));
      // Redis: only its recovery is taken from the client ('close' also fires on every reconnect attempt); outages come from the probe.
      if (redis) on(redis, 'ready', () => report({ dependency: 'redis', down: false, via: 'connection' }));
      timer = setInterval(() => void check(), everyMs);
      timer.unref();
      void check();
    },
    async stop() {
      // Shutdown closes the connections next: that is not an outage.
      stopped = true;
      if (timer) clearInterval(timer);
      timer = null;
      detach.splice(0).forEach((off) => off());
      await checking?.catch(() => undefined);
      await flush();
    },
  };
}
