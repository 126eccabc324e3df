import type { Logger } from '../../platform/logger';
import type { AuthModels } from './auth.model';

const SWEEP_EVERY_MS = 10 * 60_000;

/**
 * No TTL indexes on FerretDB: expired secrets, their claims and old login failures are deleted
 * here. Every read checks expiry itself, so a late sweep never lets an expired token through.
 */
export function createAuthSweeper(models: AuthModels, clock: () => Date, logger: Logger, failureWindowMinutes: number) {
  let timer: NodeJS.Timeout | null = null;

  async function sweep(): Promise<void> {
    const now = clock();
    // A claim must outlive its token, or a used token could be claimed again.
    await models.refreshTokens.deleteMany({ expiresAt: { $lt: now } });
    await models.oneTimeTokens.deleteMany({ expiresAt: { $lt: now } });
    await models.claims.deleteMany({ expiresAt: { $lt: now } });
    await models.loginFailures.deleteMany({ at: { $lt: new Date(now.getTime() - failureWindowMinutes * 60_000) } });
  }

  return {
    sweep,
    start() {
      timer = setInterval(() => {
        sweep().catch((err: unknown) => logger.warn('Auth sweep failed', { error: err instanceof Error ? err.message : String(err) }));
      }, SWEEP_EVERY_MS);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
