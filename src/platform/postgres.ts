import { Pool } from 'pg';
import type { Logger } from './logger';

export function createPostgresPool(options: { url: string; poolSize: number }, logger: Logger): Pool {
  const pool = new Pool({
    connectionString: options.url,
    max: options.poolSize,
    connectionTimeoutMillis: 3_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: 10_000,
  });
  // An idle client losing its server must not crash the process: log it, the pool replaces it.
  pool.on('error', (err) => logger.warn('PostgreSQL idle client error', { error: err.message }));
  return pool;
}

export async function pingPostgres(pool: Pool): Promise<void> {
  await pool.query('SELECT 1');
}
