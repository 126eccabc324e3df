import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, type Pool } from 'pg';
import { createPostgresPool } from '../../src/platform/postgres';
import { randomBytes } from 'node:crypto';
import { migrate, MIGRATIONS_DIR } from '../../src/platform/migrations';
import { createLogger } from '../../src/platform/logger';

const logger = createLogger({ level: 'error', json: true, silent: true });

describe('PostgreSQL migrations', () => {
  const db = `t_migr_${randomBytes(4).toString('hex')}`;
  let admin: Client;
  let pool: Pool;

  beforeAll(async () => {
    admin = new Client({ connectionString: process.env.POSTGRES_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${db}`);
    const url = new URL(process.env.POSTGRES_URL as string);
    url.pathname = `/${db}`;
    pool = createPostgresPool({ url: url.toString(), poolSize: 6 }, logger);
  });

  afterAll(async () => {
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.end();
  });

  it('applies every file once even when several processes start together', async () => {
    const results = await Promise.all([migrate(pool, logger), migrate(pool, logger), migrate(pool, logger)]);
    const appliedCounts = results.map((applied) => applied.length).sort();
    expect(appliedCounts[0]).toBe(0);
    expect(appliedCounts[1]).toBe(0);
    expect(appliedCounts[2]).toBeGreaterThan(0);
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM schema_migrations');
    expect(rows[0].n).toBe(appliedCounts[2]);
    await pool.query("INSERT INTO analytics_events (name, properties) VALUES ('probe', '{}')");
    expect(await migrate(pool, logger)).toEqual([]);
  });

  it('rolls back a failing file and refuses a changed, already-applied one', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'migr-'));
    await writeFile(path.join(dir, '900_ok.sql'), 'CREATE TABLE probe_ok (id int);');
    await writeFile(path.join(dir, '901_bad.sql'), 'CREATE TABLE probe_bad (id int); SELECT nonsense FROM nowhere;');
    await expect(migrate(pool, logger, dir)).rejects.toThrow(/nowhere/);
    const { rows } = await pool.query("SELECT to_regclass('probe_bad') AS t, to_regclass('probe_ok') AS ok");
    expect(rows[0]).toEqual({ t: null, ok: 'probe_ok' });

    await writeFile(path.join(dir, '901_bad.sql'), 'SELECT 1;');
    await writeFile(path.join(dir, '900_ok.sql'), 'CREATE TABLE probe_ok_changed (id int);');
    await expect(migrate(pool, logger, dir)).rejects.toThrow(/changed after it was applied/);
    expect(MIGRATIONS_DIR).toMatch(/migrations\/postgres$/);
  });
});
