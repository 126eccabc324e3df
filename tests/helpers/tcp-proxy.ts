import net from 'node:net';

/**
 * A TCP relay in front of a real server (PostgreSQL, MongoDB, Redis), so a test can take it
 * "down" for one app (refuse and cut its connections) and bring it back, or freeze its Redis
 * subscriber connections (open but silent, as a half-open connection is), without touching the
 * shared server.
 */
export interface TcpProxy {
  port: number;
  /** Cuts every relayed connection and refuses new ones until up(). */
  down(): void;
  up(): void;
  /** Redis: what the server sends to the connections that subscribed so far stops arriving; nothing is closed. */
  freezeSubscribers(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let refusing = false;
  const open = new Set<net.Socket>();
  const subscribers = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    open.add(client);
    open.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (chunk: Buffer) => {
      if (/subscribe/i.test(chunk.toString('latin1'))) subscribers.add(upstream);
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    down() {
      refusing = true;
      for (const socket of open) socket.destroy();
      open.clear();
    },
    up() {
      refusing = false;
    },
    freezeSubscribers() {
      for (const socket of subscribers) socket.unpipe();
    },
    close: async () => {
      refusing = true;
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The same URL pointing at the proxy. */
export function viaProxy(url: string, proxy: TcpProxy): string {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(proxy.port);
  return parsed.toString();
}

/** The host and port a service URL points at (for startTcpProxy). */
export function hostAndPort(url: string, defaultPort = 6379): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || defaultPort) };
}
