import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, stat, symlink, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/ferretdb';
import { ROOT } from '../helpers/process';

export interface Ports {
  FERRETDB_PORT: string;
  POSTGRES_PORT: string;
  REDIS_PORT: string;
  STRIPE_MOCK_PORT: string;
  MAILPIT_SMTP_PORT: string;
  MAILPIT_HTTP_PORT: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function freePorts(): Promise<Ports> {
  const names = ['FERRETDB_PORT', 'POSTGRES_PORT', 'REDIS_PORT', 'STRIPE_MOCK_PORT', 'MAILPIT_SMTP_PORT', 'MAILPIT_HTTP_PORT'] as const;
  const ports: Partial<Ports> = {};
  for (const name of names) ports[name] = String(await freePort());
  return ports as Ports;
}

/** The URLs `services.sh up` prints for these ports. */
export function serviceUrls(ports: Ports): { stripeMock: string; mailpitSmtp: string; mailpitApi: string } {
  return {
    stripeMock: `http://127.0.0.1:${ports.STRIPE_MOCK_PORT}`,
    mailpitSmtp: `smtp://127.0.0.1:${ports.MAILPIT_SMTP_PORT}`,
    mailpitApi: `http://127.0.0.1:${ports.MAILPIT_HTTP_PORT}`,
  };
}

/** What `services.sh status` prints when every service of these ports is up, or all are down. */
export function statusText(ports: Ports, state: 'up' | 'down'): string {
  const lines: Array<[string, string]> = [
    ['FerretDB', ports.FERRETDB_PORT],
    ['PostgreSQL', ports.POSTGRES_PORT],
    ['Redis', ports.REDIS_PORT],
    ['stripe-mock', ports.STRIPE_MOCK_PORT],
    ['Mailpit SMTP', ports.MAILPIT_SMTP_PORT],
    ['Mailpit HTTP', ports.MAILPIT_HTTP_PORT],
  ];
  return lines.map(([name, port]) => (state === 'up' ? `${name}: up on 127.0.0.1:${port}\n` : `${name}: down\n`)).join('');
}

/** The environment of a script run: no service URL inherited from the test run, so the scripts start their own. */
function scriptEnv(ports: Ports, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...ports, ...extra };
  for (const name of ['MONGODB_URI', 'POSTGRES_URL', 'REDIS_URL', 'STRIPE_MOCK_URL', 'MAILPIT_SMTP_URL', 'MAILPIT_API_URL', 'DATA_DIR', 'FERRETDB_PG_DB', 'POSTGRES_DB']) {
    delete env[name];
  }
  return env;
}

/**
 * A fresh copy of the repository (a git clone of HEAD with the working tree's scripts and tool
 * modules laid over it) in a private 0700 temporary folder, as mktemp makes one, that reuses the
 * built FerretDB, stripe-mock and Mailpit binaries and the installed node_modules instead of
 * building and installing again.
 */
export class Checkout {
  private constructor(
    readonly dir: string,
    readonly root: string,
  ) {}

  static async create(): Promise<Checkout> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'trade-checkout-'));
    await chmod(dir, 0o700);
    const root = path.join(dir, 'repo');
    const checkout = new Checkout(dir, root);
    await checkout.exec('git', ['clone', '--quiet', ROOT, root], dir);
    await cp(path.join(ROOT, 'scripts'), path.join(root, 'scripts'), { recursive: true });
    for (const tool of ['stripe-mock', 'mailpit']) {
      await cp(path.join(ROOT, 'tools', tool), path.join(root, 'tools', tool), { recursive: true });
    }
    for (const file of ['package.json', 'package-lock.json']) await cp(path.join(ROOT, file), path.join(root, file));
    await mkdir(path.join(root, '.tools/bin'), { recursive: true });
    // A binary's .version file says which version it is; without it the scripts build it again.
    for (const file of ['ferretdb', 'stripe-mock', 'stripe-mock.version', 'mailpit', 'mailpit.version']) {
      const built = path.join(ROOT, '.tools/bin', file);
      if (existsSync(built)) await symlink(built, path.join(root, '.tools/bin', file));
    }
    await symlink(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'));
    // The lock is older than the install stamp, so the scripts see node_modules as installed and
    // never run npm in the shared node_modules. (A second earlier: utimes rounds to milliseconds.)
    const stamp = path.join(ROOT, 'node_modules/.install-stamp');
    if (existsSync(stamp)) {
      const older = new Date((await stat(stamp)).mtimeMs - 1000);
      await utimes(path.join(root, 'package-lock.json'), older, older);
    }
    return checkout;
  }

  exec(file: string, args: string[], cwd = this.root, env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
    return new Promise((resolve) => {
      execFile(file, args, { cwd, env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      });
    });
  }

  services(command: 'up' | 'down' | 'status', ports: Ports): Promise<RunResult> {
    return this.exec('bash', [path.join(this.root, 'scripts/services.sh'), command], this.root, scriptEnv(ports));
  }

  /** scripts/dev.sh as the leader of a process group of its own (as a terminal would run it). */
  dev(ports: Ports, appPort: number): { child: ChildProcess; output: () => string; exited: Promise<void> } {
    const child = spawn('bash', [path.join(this.root, 'scripts/dev.sh')], {
      cwd: this.root,
      env: scriptEnv(ports, { PORT: String(appPort), HOST: '127.0.0.1', LOG_LEVEL: 'info' }),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    return { child, output: () => output, exited };
  }

  /** The PostgreSQL cluster folder the scripts chose (remembered in .data/postgres.location). */
  async postgresDir(): Promise<string | null> {
    try {
      return (await readFile(path.join(this.root, '.data/postgres.location'), 'utf8')).trim() || null;
    } catch {
      return null;
    }
  }

  async pid(file: string): Promise<number | null> {
    try {
      const pid = Number((await readFile(path.join(this.root, file), 'utf8')).split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  /** Stops whatever this copy started and removes it, its PostgreSQL cluster included. */
  async destroy(ports: Ports[]): Promise<void> {
    for (const p of ports) await this.services('down', p).catch(() => undefined);
    const pgDir = await this.postgresDir();
    if (pgDir && (pgDir.startsWith('/var/lib/postgresql/trade-backend/') || pgDir.startsWith(this.dir))) {
      await rm(pgDir, { recursive: true, force: true });
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

export function alive(pid: number | null): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
