import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for a third party's HTTP API (Twilio, FCM) on a local port: the app's real SDK and
 * HTTP code send real requests to it, and each test scripts the answers. (nock would stub the
 * same boundary in-process, but nock 15 is ESM-only and this Jest setup cannot load it.)
 */
export interface StubRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Parsed: a form body as an object of strings, JSON as JSON, anything else as text. */
  body: unknown;
}

export interface StubReply {
  status: number;
  body: unknown;
}

type Responder = (req: StubRequest) => StubReply;

export interface ProviderStub {
  url: string;
  requests: StubRequest[];
  /** Answers the next request for `method path` (in order); `times` repeats it. */
  reply(method: string, path: string, responder: Responder | StubReply, times?: number): void;
  /** Answers every request for `method path` that no queued reply takes. */
  always(method: string, path: string, responder: Responder | StubReply): void;
  close(): Promise<void>;
}

export async function startProviderStub(): Promise<ProviderStub> {
  const queued = new Map<string, Responder[]>();
  const fallback = new Map<string, Responder>();
  const requests: StubRequest[] = [];
  const asResponder = (r: Responder | StubReply): Responder => (typeof r === 'function' ? r : () => r);

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const type = req.headers['content-type'] ?? '';
      let body: unknown = raw;
      if (type.includes('application/x-www-form-urlencoded')) body = Object.fromEntries(new URLSearchParams(raw));
      else if (type.includes('json') && raw) body = JSON.parse(raw);
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const request: StubRequest = { method: req.method ?? 'GET', path, headers: req.headers, body };
      requests.push(request);
      const key = `${request.method} ${path}`;
      const responder = queued.get(key)?.shift() ?? fallback.get(key);
      const reply = responder ? responder(request) : { status: 404, body: { error: `no stub for ${key}` } };
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    reply(method, path, responder, times = 1) {
      const list = queued.get(`${method} ${path}`) ?? [];
      for (let i = 0; i < times; i += 1) list.push(asResponder(responder));
      queued.set(`${method} ${path}`, list);
    },
    always(method, path, responder) {
      fallback.set(`${method} ${path}`, asResponder(responder));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
