import { spawn } from 'node:child_process';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import { ROOT } from '../helpers/process';
import { testEnv } from '../helpers/env';
import { startTestServer, type TestServer } from '../helpers/server';
import { createUser } from '../helpers/users';

function createAdmin(app: TestServer, args: string[], stdin: string): Promise<{ code: number | null; output: string }> {
  const uri = new URL(testEnv().MONGODB_URI as string);
  uri.pathname = `/${app.names.mongoDb}`;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/create-admin.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, DOTENV_CONFIG_PATH: '/nonexistent', ...testEnv(), MONGODB_URI: uri.toString() } as NodeJS.ProcessEnv,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

describe('npm run create-admin', () => {
  let app: TestServer;
  beforeAll(async () => {
    app = await startTestServer();
  });
  afterAll(() => app.close());

  it('creates the first super_admin, who can then sign in with that role', async () => {
    const result = await createAdmin(app, ['--email', 'Root@Example.test', '--name', 'Root', '--password-stdin'], 'root pass 123\n');
    expect(result).toEqual({ code: 0, output: expect.stringMatching(/Created super_admin root@example\.test/) });
    const login = await app.api.post('/api/auth/login').send({ email: 'root@example.test', password: 'root pass 123' }).expect(200);
    expect(login.body.data.user).toEqual(expect.objectContaining({ role: 'super_admin', emailVerified: true, name: 'Root' }));
    expect((jwt.decode(login.body.data.accessToken) as { role: string }).role).toBe('super_admin');
  }, 60_000);

  it('promotes an existing account, sets its password and signs out its sessions', async () => {
    const user = await createUser(app);
    const viewer = await createUser(app);
    // The running server has the account's document cached: the command must tell it (through Redis).
    const profile = () => app.api.get(`/api/users/${user.id}`).set('Authorization', `Bearer ${viewer.accessToken}`).expect(200);
    expect((await profile()).body.data.role).toBe('user');
    const result = await createAdmin(app, ['--email', user.email, '--role', 'admin', '--password-stdin'], 'admin pass 456\n');
    expect(result.code).toBe(0);
    expect(result.output).toMatch(/Updated admin/);
    await app.api.get('/api/auth/me').set('Authorization', `Bearer ${user.accessToken}`).expect(401);
    const login = await app.api.post('/api/auth/login').send({ email: user.email, password: 'admin pass 456' }).expect(200);
    expect(login.body.data.user.role).toBe('admin');
    const me = await app.api.get('/api/auth/me').set('Authorization', `Bearer ${login.body.data.accessToken}`).expect(200);
    expect(me.body.data.role).toBe('admin');
    expect((await profile()).body.data.role).toBe('admin');
  }, 60_000);

  it('refuses a weak password, a missing email or another role, and creates nothing', async () => {
    expect((await createAdmin(app, ['--email', 'weak@example.test', '--password-stdin'], 'short\n')).code).toBe(1);
    expect((await createAdmin(app, ['--password-stdin'], 'root pass 123\n')).code).toBe(2);
    expect((await createAdmin(app, ['--email', 'v@example.test', '--role', 'vendor', '--password-stdin'], 'root pass 123\n')).code).toBe(2);
    expect(await app.ctx.mongo.collection('users').countDocuments({ email: { $in: ['weak@example.test', 'v@example.test'] } })).toBe(0);
  }, 60_000);
});
