import http from 'node:http';
import { spawnListeningMain, spawnMain } from '../helpers/process';

describe('the server process', () => {
  it('refuses to start on a bad configuration, naming every bad variable of every section', async () => {
    // The platform's section and three modules' own sections (auth, chat, uploads), in one message.
    const server = spawnMain({ NODE_ENV: 'test', PORT: 'not-a-port', JWT_SECRET: 'short', BCRYPT_COST: '40', CHAT_LOCK_LEASE_MS: '5', UPLOAD_STORAGE_DRIVER: 's3' });
    const code = await server.exited;
    expect(code).toBe(1);
    const output = server.output();
    expect(output).toContain('Invalid configuration');
    expect(output).toContain('PORT must be an integer');
    expect(output).toContain('MONGODB_URI is required');
    expect(output).toContain('JWT_SECRET must be at least 32 characters');
    expect(output).toContain('BCRYPT_COST must be an integer from 4 to 15');
    expect(output).toContain('CHAT_LOCK_LEASE_MS must be an integer from 100 to 60000');
    expect(output).toContain('UPLOAD_S3_BUCKET is required when UPLOAD_STORAGE_DRIVER=s3');
  });

  it('on SIGTERM lets an in-flight request finish, then exits 0', async () => {
    const server = await spawnListeningMain('shutdown');
    const { port } = server;
    try {
      // A request whose body is still arriving when the signal comes: it is in flight.
      const [head, tail] = ['{"slow": "bo', 'dy"}'];
      const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port: Number(port), method: 'POST', path: '/api/system/health', headers: { 'Content-Type': 'application/json', 'Content-Length': String(head.length + tail.length) } },
          (res) => {
            let body = '';
            res.on('data', (chunk: Buffer) => (body += chunk.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.write(head);
        setTimeout(() => {
          server.child.kill('SIGTERM');
          setTimeout(() => req.end(tail), 500);
        }, 200);
      });

      const answered = await response;
      expect(answered.status).toBe(404);
      expect(JSON.parse(answered.body).error.code).toBe('NOT_FOUND');
      expect(await server.exited).toBe(0);
      expect(server.output()).toContain('Shutdown complete');
    } finally {
      await server.cleanup();
    }
  });
});
