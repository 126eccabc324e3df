import 'dotenv/config';
import { createLogger } from '../platform/logger';
import { createPostgresPool } from '../platform/postgres';
import { migrate } from '../platform/migrations';

/** `npm run migrate`: applies pending PostgreSQL migrations and exits. */
async function run(): Promise<void> {
  const url = process.env.POSTGRES_URL;
  if (!url) {
    process.stderr.write('POSTGRES_URL is required to run migrations\n');
    process.exit(1);
  }
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'info', json: false });
  const pool = createPostgresPool({ url, poolSize: 1 }, logger);
  try {
    const applied = await migrate(pool, logger);
    logger.info(applied.length ? `Applied ${applied.length} migration(s)` : 'No pending migrations');
  } finally {
    await pool.end();
  }
}

run().catch((err: unknown) => {
  process.stderr.write(`Migration failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
