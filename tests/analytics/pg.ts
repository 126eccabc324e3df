import { randomBytes } from 'node:crypto';
import { Client, type Pool } from 'pg';
import { createPostgresPool } from '../../src/platform/postgres';
import { migrate } from '../../src/platform/migrations';
import { createLogger } from '../../src/platform/logger';

export const silentLogger = createLogger({ level: 'error', json: true, silent: true });

/** A migrated PostgreSQL database of the test file's own; `url` lets a test reach it another way (a proxy). */
export async function freshAnalyticsDb(): Promise<{ pool: Pool; url: string; drop(): Promise<void> }> {
  const db = `t_an_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: process.env.POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  await admin.end();
  const url = new URL(process.env.POSTGRES_URL as string);
  url.pathname = `/${db}`;
  const pool = createPostgresPool({ url: url.toString(), poolSize: 4 }, silentLogger);
  await migrate(pool, silentLogger);
  return {
    pool,
    url: url.toString(),
    async drop() {
      await pool.end();
      const c = new Client({ connectionString: process.env.POSTGRES_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await c.end();
    },
  };
}
