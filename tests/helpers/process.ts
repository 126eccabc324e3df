import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { testEnv } from './env';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');

export interface SpawnedServer {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs src/main.ts as a real process (through tsx), with exactly the given environment. */
export function spawnMain(env: Record<string, string | undefined>): SpawnedServer {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    // No inherited variables: the process must be configured by what the test passes.
    env: { PATH: process.env.PATH, DOTENV_CONFIG_PATH: '/nonexistent', ...env } as NodeJS.ProcessEnv,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

export async function waitForOutput(server: SpawnedServer, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = pattern.exec(server.output());
    if (match) return match;
    if (server.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Expected output ${pattern} did not appear. Output:\n${server.output()}`);
}

export interface ListeningServer extends SpawnedServer {
  port: number;
  /** Kills the process if it still runs and drops its databases. */
  cleanup(): Promise<void>;
}

/** Runs src/main.ts as a real process with databases of its own, and waits until it listens. */
export async function spawnListeningMain(name: string): Promise<ListeningServer> {
  const db = `t_${name}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: process.env.POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  const env = testEnv();
  const server = spawnMain({
    ...env,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    MONGODB_URI: `${env.MONGODB_URI?.replace(/\/[^/]*$/, '')}/${db}`,
    POSTGRES_URL: `${env.POSTGRES_URL?.replace(/\/[^/]*$/, '')}/${db}`,
    REDIS_KEY_PREFIX: `t:${db}:`,
  });
  const cleanup = async () => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    await server.exited;
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.end();
  };
  try {
    const [, port] = await waitForOutput(server, /Listening on http:\/\/127\.0\.0\.1:(\d+)/);
    return { ...server, port: Number(port), cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
