import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../../platform/logger';

export interface PresenceState {
  online: boolean;
  lastSeenAt: string | null;
}

export type StatusListener = (userId: string, status: 'online' | 'offline', lastSeenAt: string | null) => void;

export interface PresenceDeps {
  redis: Redis | null;
  keyPrefix: string;
  heartbeatMs: number;
  clock: () => Date;
  logger: Logger;
  onChange: StatusListener;
}

/**
 * Who is online, across processes. Each socket is a field `<process>|<socket>` in the user's hash;
 * each process keeps a heartbeat key that expires when it stops renewing it. A field counts only
 * while its process's heartbeat lives, so a process that dies takes exactly its own sockets with it:
 * the survivors notice the missing heartbeat, clear that process's fields and announce the users
 * who have no other device left. See docs/architecture.md, "Chat".
 */
export function createPresence(deps: PresenceDeps) {
  const { redis, clock, logger } = deps;
  const processId = randomBytes(6).toString('hex');
  const key = {
    user: (userId: string) => `${deps.keyPrefix}chat:presence:u:${userId}`,
    seen: (userId: string) => `${deps.keyPrefix}chat:presence:seen:${userId}`,
    heartbeat: (pid: string) => `${deps.keyPrefix}chat:presence:hb:${pid}`,
    processUsers: (pid: string) => `${deps.keyPrefix}chat:presence:pu:${pid}`,
    processes: `${deps.keyPrefix}chat:presence:procs`,
    cleanLock: (pid: string) => `${deps.keyPrefix}chat:presence:clean:${pid}`,
  };
  const local = new Map<string, Set<string>>();
  const localSeen = new Map<string, string>();
  let liveProcesses = new Set<string>([processId]);
  let timer: NodeJS.Timeout | undefined;

  const aliveFields = (fields: string[]) => fields.filter((f) => liveProcesses.has(f.split('|')[0] ?? ''));

  async function heartbeat(): Promise<void> {
    if (!redis || redis.status !== 'ready') return;
    await redis.multi().set(key.heartbeat(processId), '1', 'PX', deps.heartbeatMs * 3).sadd(key.processes, processId).exec();
    const pids = await redis.smembers(key.processes);
    const exists = await Promise.all(pids.map((pid) => redis.exists(key.heartbeat(pid))));
    liveProcesses = new Set(pids.filter((_, i) => exists[i] === 1));
    liveProcesses.add(processId);
    for (const pid of pids.filter((p) => !liveProcesses.has(p))) await reap(pid);
  }

  /** One survivor (the lock holder) clears a dead process's sockets and announces who went offline. */
  async function reap(pid: string): Promise<void> {
    if (!redis) return;
    const locked = await redis.set(key.cleanLock(pid), processId, 'PX', 30_000, 'NX');
    if (locked !== 'OK') return;
    const userIds = await redis.smembers(key.processUsers(pid));
    for (const userId of userIds) {
      const fields = await redis.hkeys(key.user(userId));
      const dead = fields.filter((f) => f.startsWith(`${pid}|`));
      if (dead.length) await redis.hdel(key.user(userId), ...dead);
      const wasOnline = dead.length > 0;
      if (wasOnline && aliveFields(fields.filter((f) => !dead.includes(f))).length === 0) {
        const at = clock().toISOString();
        await redis.set(key.seen(userId), at);
        deps.onChange(userId, 'offline', at);
      }
    }
    await redis.multi().del(key.processUsers(pid)).srem(key.processes, pid).exec();
  }

  const presence = {
    processId,

    async connected(userId: string, socketId: string): Promise<void> {
      const sockets = local.get(userId) ?? new Set<string>();
      sockets.add(socketId);
      local.set(userId, sockets);
      if (redis && redis.status === 'ready') {
        const result = await redis.multi().hset(key.user(userId), `${processId}|${socketId}`, '1').sadd(key.processUsers(processId), userId).hkeys(key.user(userId)).exec();
        const fields = (result?.[2]?.[1] as string[] | undefined) ?? [];
        if (aliveFields(fields).length === 1) deps.onChange(userId, 'online', null);
        return;
      }
      if (sockets.size === 1) deps.onChange(userId, 'online', null);
    },

    async disconnected(userId: string, socketId: string): Promise<void> {
      const sockets = local.get(userId);
      sockets?.delete(socketId);
      if (sockets && sockets.size === 0) local.delete(userId);
      const at = clock().toISOString();
      if (redis && redis.status === 'ready') {
        const tx = redis.multi().hdel(key.user(userId), `${processId}|${socketId}`).hkeys(key.user(userId));
        if (!local.has(userId)) tx.srem(key.processUsers(processId), userId);
        const result = await tx.exec();
        const fields = (result?.[1]?.[1] as string[] | undefined) ?? [];
        if (aliveFields(fields).length === 0) {
          await redis.set(key.seen(userId), at);
          deps.onChange(userId, 'offline', at);
        }
        return;
      }
      if (!local.has(userId)) {
        localSeen.set(userId, at);
        deps.onChange(userId, 'offline', at);
      }
    },

    /**
     * Whether the user has any live socket: at once when one is connected to this process (it is
     * alive, so that socket counts), else from Redis (or this process alone without it).
     */
    async isOnline(userId: string): Promise<boolean> {
      if (local.has(userId)) return true;
      return (await presence.lookup([userId]))[userId]?.online ?? false;
    },

    async lookup(userIds: string[]): Promise<Record<string, PresenceState>> {
      const out: Record<string, PresenceState> = {};
      if (redis && redis.status === 'ready') {
        const pipeline = redis.pipeline();
        for (const id of userIds) pipeline.hkeys(key.user(id)).get(key.seen(id));
        const results = (await pipeline.exec()) ?? [];
        userIds.forEach((id, i) => {
          const fields = (results[i * 2]?.[1] as string[] | undefined) ?? [];
          const seen = (results[i * 2 + 1]?.[1] as string | null | undefined) ?? null;
          const online = aliveFields(fields).length > 0;
          out[id] = { online, lastSeenAt: online ? null : seen };
        });
        return out;
      }
      for (const id of userIds) out[id] = { online: local.has(id), lastSeenAt: local.has(id) ? null : (localSeen.get(id) ?? null) };
      return out;
    },

    async start(): Promise<void> {
      const tick = () => heartbeat().catch((err: Error) => logger.warn('Presence heartbeat failed', { error: err.message }));
      await tick();
      timer = setInterval(tick, deps.heartbeatMs);
      timer.unref();
    },

    /** Dropping the heartbeat at once lets the other processes announce this one's users as offline. */
    async stop(): Promise<void> {
      clearInterval(timer);
      if (redis && redis.status === 'ready') await redis.del(key.heartbeat(processId)).catch(() => undefined);
    },
  };
  return presence;
}

export type Presence = ReturnType<typeof createPresence>;
