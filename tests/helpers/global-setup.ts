import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * Makes sure the real services are up before any test file runs. scripts/test.sh has normally
 * started them already (and exported the URLs); running `npx jest` alone starts them here.
 */
export default function globalSetup(): void {
  if (process.env.MONGODB_URI && process.env.POSTGRES_URL && process.env.REDIS_URL) return;
  const script = path.resolve(__dirname, '../../scripts/services.sh');
  const output = execFileSync('bash', [script, 'up'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  for (const line of output.split('\n')) {
    const match = /^export (\w+)=(.*)$/.exec(line.trim());
    if (match?.[1] && match[2] !== undefined) process.env[match[1]] = match[2];
  }
}
