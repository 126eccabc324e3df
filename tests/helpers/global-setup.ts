import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** What scripts/services.sh up exports; tests read them from process.env (tests/helpers/env.ts). */
export const SERVICE_URLS = ['MONGODB_URI', 'POSTGRES_URL', 'REDIS_URL', 'STRIPE_MOCK_URL', 'MAILPIT_SMTP_URL', 'MAILPIT_API_URL'] as const;

/**
 * Makes sure the real services are up before any test file runs. scripts/test.sh has normally
 * started them already (and exported the URLs); running `npx jest` alone starts them here. A URL
 * already in the environment is kept: services.sh starts only the services whose URL is missing.
 */
export default function globalSetup(): void {
  if (SERVICE_URLS.every((name) => process.env[name])) return;
  const script = path.resolve(__dirname, '../../scripts/services.sh');
  const output = execFileSync('bash', [script, 'up'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  for (const line of output.split('\n')) {
    const match = /^export (\w+)=(.*)$/.exec(line.trim());
    if (match?.[1] && match[2] !== undefined) process.env[match[1]] = match[2];
  }
}
