import type { Logger } from './logger';

/**
 * Wires SIGTERM/SIGINT and fatal errors to one graceful shutdown. A second signal while shutting
 * down forces the exit. An unhandled rejection or exception is logged and counted, never fatal.
 */
export function installShutdownHandlers(
  logger: Logger,
  shutdown: () => Promise<void>,
  onUnexpected?: (source: 'rejection' | 'exception') => void,
): void {
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
  // A failure nobody caught belongs to one request or event, not to the thousands of others this
  // process is serving: log it, count it, keep serving. Express answers its own handlers' errors
  // with a 500 and socket handlers answer with an INTERNAL ack; what reaches here escaped both.
  process.on('unhandledRejection', (reason) => {
    onUnexpected?.('rejection');
    logger.error('Unhandled promise rejection (process keeps serving)', { error: reason instanceof Error ? reason : String(reason) });
  });
  process.on('uncaughtException', (err) => {
    onUnexpected?.('exception');
    logger.error('Uncaught exception (process keeps serving)', { error: err });
  });
}
