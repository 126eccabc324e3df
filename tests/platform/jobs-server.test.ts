import request from 'supertest';
import { startTestServer } from '../helpers/server';

describe('the job runner inside the server', () => {
  it('runs on Redis when REDIS_URL is set, with the platform schedules registered', async () => {
    const app = await startTestServer();
    try {
      const res = await request(app.url).get('/api/system/ready').expect(200);
      expect(res.body.data.jobs).toEqual({ mode: 'redis', running: true });
      expect(app.ctx.jobs.status().schedules).toContain('sequence-claims-sweep');
    } finally {
      await app.close();
    }
  });

  it('runs in-process without REDIS_URL, and readiness stays 200 and says what that mode lacks', async () => {
    const app = await startTestServer({ env: { REDIS_URL: undefined } });
    try {
      const res = await request(app.url).get('/api/system/ready').expect(200);
      expect(res.body.data.jobs).toEqual({ mode: 'in-process', running: true, note: expect.stringMatching(/lost on restart/) });
      expect(app.ctx.jobs.status().schedules).toContain('sequence-claims-sweep');
    } finally {
      await app.close();
    }
  });
});
