import http from 'node:http';
import { secrets, standardDelivery } from '../webhooks/harness';

export interface TaskRequest {
  correlationId: string;
  task: string;
  input: Record<string, string>;
  callbackUrl: string;
}

/**
 * The local AI provider of tests/webhooks/ai-tasks.test.ts: takes POST /tasks, answers 202, then
 * calls back with a Standard Webhooks signature (the `AI_WEBHOOK_SECRET` of testSecretsEnv). The
 * callback URL it is given is the public one; like the proxy in front of the app, it delivers to
 * the server's local address with the same path.
 */
export async function startAiPeer(target: () => string, answer: (request: TaskRequest) => { type: string; data: Record<string, unknown> } | null) {
  const received: TaskRequest[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const request = JSON.parse(body) as TaskRequest;
      received.push(request);
      res.writeHead(202).end();
      const callback = answer(request);
      if (!callback) return;
      setImmediate(() => {
        const delivery = standardDelivery({ ...callback, timestamp: new Date().toISOString() }, { secret: secrets.ai });
        void fetch(`${target()}${new URL(request.callbackUrl).pathname}`, { method: 'POST', body: delivery.body, headers: delivery.headers });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
