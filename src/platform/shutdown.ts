import type { Logger } from './logger';

/**
 * Wires SIGTERM/SIGINT and fatal errors to one graceful shutdown. A second signal while shutting
 * down forces the exit. An unhandled rejection or exception is logged and shuts down with code 1.
 */
export function installShutdownHandlers(logger: Logger, shutdown: () => Promise<void>): void {
  let exitingSince = 0;
  const run = (code: number) => {
    if (exitingSince) {
      // A terminal's Ctrl-C reaches both a watcher (tsx) and this process, which the watcher then
      // signals again: only a repeat well after the first one means "force".
      if (Date.now() - exitingSince < 1_000) return;
      logger.warn('Second shutdown request: exiting now');
      process.exit(code || 1);
    }
    exitingSince = Date.now();
    shutdown().then(
      () => process.exit(code),
      (err: unknown) => {
        logger.error('Shutdown failed', { error: err instanceof Error ? err : String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => run(0));
  process.on('SIGINT', () => run(0));
  process.on('unhandledRejection', (reason) => {
    logger.error('Unhandled promise rejection', { error: reason instanceof Error ? reason : String(reason) });
    run(1);
  });
  process.on('uncaughtException', (err) => {
    logger.error('Uncaught exception', { error: err });
    run(1);
  });
}
