import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const FERRETDB_BIN = path.resolve(__dirname, '../../.tools/bin/ferretdb');

/** Ports this test process has handed out: the kernel may offer a port again once it was closed. */
const handedOut = new Set<number>();

/**
 * A port free now and never handed out before in this process: tests ask for several at once
 * (one checkout's six services, then another's), and two asks must not get the same one.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await anyFreePort();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`FerretDB did not listen on ${port}`);
}

/** A private FerretDB process that a test may stop and start again (same port, same data). */
export class FerretDbProcess {
  private child: ChildProcess | null = null;
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async create(): Promise<FerretDbProcess> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ferretdb-test-'));
    const instance = new FerretDbProcess(await freePort(), dir);
    await instance.start();
    return instance;
  }

  get uri(): string {
    return `mongodb://127.0.0.1:${this.port}/readiness`;
  }

  async start(): Promise<void> {
    this.child = spawn(
      FERRETDB_BIN,
      [
        `--listen-addr=127.0.0.1:${this.port}`,
        '--handler=sqlite',
        `--sqlite-url=file:${this.dir}/`,
        `--state-dir=${this.dir}`,
        '--telemetry=disable',
        '--debug-addr=-',
        '--log-level=ERROR',
      ],
      { stdio: 'ignore' },
    );
    await waitForPort(this.port);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
    this.child = null;
  }

  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
