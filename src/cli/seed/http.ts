/** The seed's client: plain fetch against the in-process server, as a phone or the dashboard would call it. */
export interface Actor {
  id: string;
  email: string;
  name: string;
  role: string;
  accessToken: string;
  /** Each seeded person calls from an address of their own (X-Forwarded-For; the seed's server trusts one proxy). */
  ip: string;
}

export interface CallOptions {
  as?: Actor | null;
  body?: unknown;
  headers?: Record<string, string>;
  /** Statuses that are answers, not failures (default: any 2xx). */
  accept?: number[];
  /** Raw body (already serialised), e.g. a signed webhook. */
  raw?: string;
  ip?: string;
}

export interface CallResult<T = unknown> {
  status: number;
  body: T;
}

export class SeedHttpError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`${method} ${path} answered ${status}: ${JSON.stringify(body).slice(0, 500)}`);
    this.name = 'SeedHttpError';
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createClient(baseUrl: string, stats: { requests: number; retried429: number }) {
  async function call<T = unknown>(method: string, path: string, options: CallOptions = {}): Promise<CallResult<T>> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (options.as) headers.authorization = `Bearer ${options.as.accessToken}`;
    const ip = options.ip ?? options.as?.ip;
    if (ip) headers['x-forwarded-for'] = ip;
    let payload: string | undefined;
    if (options.raw !== undefined) payload = options.raw;
    else if (options.body !== undefined) payload = JSON.stringify(options.body);
    if (payload !== undefined) headers['content-type'] ??= 'application/json';
    // A budget (per-IP, per-user sends) answers 429 with Retry-After: wait as a client would, a few times.
    for (let attempt = 0; ; attempt += 1) {
      stats.requests += 1;
      const res = await fetch(`${baseUrl}${path}`, { method, headers, body: payload });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        /* not JSON (CSV, empty) */
      }
      if (res.status === 429 && attempt < 20) {
        stats.retried429 += 1;
        const seconds = Number(res.headers.get('retry-after') ?? '1');
        await sleep(Math.min(15_000, Math.max(250, (Number.isFinite(seconds) ? seconds : 1) * 1000)));
        continue;
      }
      const ok = options.accept ? options.accept.includes(res.status) : res.status >= 200 && res.status < 300;
      if (!ok) throw new SeedHttpError(method, path, res.status, body);
      return { status: res.status, body: body as T };
    }
  }
  return {
    call,
    get: <T = unknown>(path: string, options?: CallOptions) => call<T>('GET', path, options),
    post: <T = unknown>(path: string, options?: CallOptions) => call<T>('POST', path, options),
    patch: <T = unknown>(path: string, options?: CallOptions) => call<T>('PATCH', path, options),
    put: <T = unknown>(path: string, options?: CallOptions) => call<T>('PUT', path, options),
  };
}

export type SeedClient = ReturnType<typeof createClient>;

/** Runs `work` over `items`, at most `limit` at once, in order of start. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < items.length) {
      const index = nextIndex;
      nextIndex += 1;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export { sleep };
