import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { ROOT } from '../helpers/process';

const run = promisify(execFile);

async function dockerComposeAvailable(): Promise<boolean> {
  try {
    await run('docker', ['compose', 'version']);
    return true;
  } catch {
    return false;
  }
}

describe('deployment files', () => {
  it('docker-compose.yml runs the app with mongo:7, postgres:16 and redis:7, each with a healthcheck and a volume', async () => {
    const compose = YAML.parse(await readFile(path.join(ROOT, 'docker-compose.yml'), 'utf8'));
    expect(compose.services.mongo.image).toBe('mongo:7');
    expect(compose.services.postgres.image).toBe('postgres:16');
    expect(compose.services.redis.image).toBe('redis:7');
    for (const name of ['mongo', 'postgres', 'redis']) {
      expect(compose.services[name].healthcheck.test).toEqual(expect.any(Array));
      expect(compose.services[name].volumes.length).toBeGreaterThan(0);
      expect(compose.services.app.depends_on[name]).toEqual({ condition: 'service_healthy' });
    }
    expect(compose.services.app.environment.MONGODB_URI).toMatch(/^mongodb:\/\/mongo:27017\//);
    // Where the Docker client with the compose plugin exists, let it validate the file too.
    if (await dockerComposeAvailable()) {
      await expect(
        run('docker', ['compose', '-f', path.join(ROOT, 'docker-compose.yml'), 'config', '-q'], {
          env: { ...process.env, JWT_SECRET: 'x'.repeat(32) },
        }),
      ).resolves.toBeDefined();
    }
  });

  it('the Dockerfile is multi-stage, runs as a non-root user and has a HEALTHCHECK', async () => {
    const dockerfile = await readFile(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect((dockerfile.match(/^FROM /gm) ?? []).length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    expect(dockerfile).toMatch(/CMD \["node", "dist\/main.js"\]/);
  });

  it('.env.example documents every variable the configuration reads', async () => {
    // The platform's section and every module's own (src/modules/<m>/<m>.config.ts).
    const modules = await readdir(path.join(ROOT, 'src/modules'), { withFileTypes: true });
    const sources = [
      'src/platform/config.ts',
      ...modules.filter((entry) => entry.isDirectory()).map((entry) => `src/modules/${entry.name}/${entry.name}.config.ts`),
    ];
    const texts = await Promise.all(sources.map((file) => readFile(path.join(ROOT, file), 'utf8').catch(() => '')));
    const example = await readFile(path.join(ROOT, '.env.example'), 'utf8');
    const configSource = texts.join('\n');
    expect(texts.filter(Boolean).length).toBeGreaterThanOrEqual(4);
    const read = [...configSource.matchAll(/read\.\w+\('([A-Z0-9_]+)'/g)].map((match) => match[1]);
    expect(read.length).toBeGreaterThan(10);
    const documented = new Set([...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((match) => match[1]));
    expect(read.filter((name) => !documented.has(name))).toEqual([]);
  });
});
