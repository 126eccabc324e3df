import http from 'node:http';
import { secrets, standardDelivery } from '../webhooks/harness';

export interface TaskRequest {
  correlationId: string;
  task: string;
  input: Record<string, string>;
  callbackUrl: string;
}

export type PeerCallback = { type: string; data: Record<string, unknown> } | null;

export interface FetchedDocument {
  url: string;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface AiPeerTools {
  /** GETs a URL the server gave the provider (a signed document link) without any session, as the provider would. */
  fetchDocument(url: string): Promise<FetchedDocument>;
}

/**
 * The local AI provider of tests/ai and tests/webhooks: takes POST /tasks, answers 202, then works
 * out its answer (which may read the task's document through the signed link it was given) and
 * calls back with a Standard Webhooks signature (the `AI_WEBHOOK_SECRET` of testSecretsEnv). An
 * answer that throws becomes an `ai.task.failed` callback with the reason, as a provider that could
 * not do the work would send. The URLs it is given are public ones; like the proxy in front of the
 * app, it reaches the server's local address with the same path and query.
 */
export async function startAiPeer(target: () => string, answer: (request: TaskRequest, tools: AiPeerTools) => PeerCallback | Promise<PeerCallback>) {
  const received: TaskRequest[] = [];
  const fetched: FetchedDocument[] = [];
  let status = 202;
  const local = (url: string) => {
    const parsed = new URL(url);
    return `${target()}${parsed.pathname}${parsed.search}`;
  };
  const tools: AiPeerTools = {
    async fetchDocument(url) {
      const res = await fetch(local(url));
      const document = { url, status: res.status, headers: Object.fromEntries(res.headers.entries()), body: Buffer.from(await res.arrayBuffer()) };
      fetched.push(document);
      return document;
    },
  };
  async function work(request: TaskRequest): Promise<void> {
    let callback: PeerCallback;
    try {
      callback = await answer(request, tools);
    } catch (err) {
      callback = { type: 'ai.task.failed', data: { correlationId: request.correlationId, task: request.task, error: err instanceof Error ? err.message : String(err) } };
    }
    if (!callback) return;
    const delivery = standardDelivery({ ...callback, timestamp: new Date().toISOString() }, { secret: secrets.ai });
    await fetch(local(request.callbackUrl), { method: 'POST', body: delivery.body, headers: delivery.headers });
  }
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const request = JSON.parse(body) as TaskRequest;
      received.push(request);
      res.writeHead(status).end();
      if (status !== 202) return;
      setImmediate(() => void work(request).catch(() => undefined));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    received,
    fetched,
    /** Answers every later task request with this status (202 again to take tasks). */
    failWith(code: number) {
      status = code;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type AiPeer = Awaited<ReturnType<typeof startAiPeer>>;
