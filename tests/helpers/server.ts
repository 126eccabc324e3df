import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import request from 'supertest';
import TestAgent from 'supertest/lib/agent';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/platform/logger';
import { openConnections } from '../../src/platform/connections';
import { createAppContext, type AppContext } from '../../src/platform/context';
import { createServer, type RunningServer } from '../../src/server';
import { testEnv } from './env';

export interface TestServer {
  url: string;
  api: TestAgent;
  server: RunningServer;
  ctx: AppContext<Config>;
  names: IsolatedNames;
  close(): Promise<void>;
}

/** Names that keep one test file's data apart from every other file's. */
export interface IsolatedNames {
  mongoDb: string;
  postgresDb: string;
  redisPrefix: string;
}

export function isolatedNames(): IsolatedNames {
  const id = randomBytes(5).toString('hex');
  return { mongoDb: `t_${id}`, postgresDb: `t_${id}`, redisPrefix: `t:${id}:` };
}

function withDatabase(url: string, db: string, monitorCommands = false): string {
  const parsed = new URL(url);
  parsed.pathname = `/${db}`;
  if (monitorCommands) parsed.searchParams.set('monitorCommands', 'true');
  return parsed.toString();
}

async function adminQuery(sql: string): Promise<void> {
  const client = new Client({ connectionString: process.env.POSTGRES_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Starts the real server on port 0 against the real services, in databases of its own. Pass the
 * same `names` to two calls to get two processes' worth of servers sharing one system.
 */
export async function startTestServer(
  options: {
    env?: Record<string, string | undefined>;
    names?: IsolatedNames;
    ownsDatabases?: boolean;
    /** Turns on the MongoDB driver's command monitoring (commandStarted events), to count or attribute store operations. */
    monitorCommands?: boolean;
    /** The app's clock (tests/helpers/clock.ts): time rules are tested by moving it, not by sleeping. */
    clock?: () => Date;
  } = {},
): Promise<TestServer> {
  const names = options.names ?? isolatedNames();
  const ownsDatabases = options.ownsDatabases ?? !options.names;
  if (ownsDatabases && process.env.POSTGRES_URL) await adminQuery(`CREATE DATABASE ${names.postgresDb}`);
  const base = testEnv();
  const env = {
    ...base,
    MONGODB_URI: base.MONGODB_URI ? withDatabase(base.MONGODB_URI, names.mongoDb, options.monitorCommands) : undefined,
    POSTGRES_URL: base.POSTGRES_URL ? withDatabase(base.POSTGRES_URL, names.postgresDb) : undefined,
    REDIS_KEY_PREFIX: names.redisPrefix,
    ...options.env,
  };
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel, json: false });
  const connections = await openConnections(config, logger);
  const ctx = createAppContext(config, logger, connections, { clock: options.clock });
  const server = await createServer(ctx, connections);
  const port = await server.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    api: request(url),
    server,
    ctx,
    names,
    async close() {
      const mongo = ctx.mongo;
      if (ownsDatabases) await mongo.dropDatabase().catch(() => undefined);
      const redis = ctx.redis;
      if (ownsDatabases && redis) {
        const keys = await redis.keys(`${names.redisPrefix}*`).catch(() => [] as string[]);
        if (keys.length) await redis.del(...keys).catch(() => undefined);
      }
      await server.close();
      if (ownsDatabases && process.env.POSTGRES_URL) {
        await adminQuery(`DROP DATABASE IF EXISTS ${names.postgresDb} WITH (FORCE)`).catch(() => undefined);
      }
    },
  };
}
