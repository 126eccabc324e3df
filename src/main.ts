import 'dotenv/config';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './platform/logger';
import { openConnections } from './platform/connections';
import { installShutdownHandlers } from './platform/shutdown';
import { createAppContext } from './platform/context';
import { createServer } from './server';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel, json: config.nodeEnv === 'production' });
  const connections = await openConnections(config, logger);
  const ctx = createAppContext(config, logger, connections);
  const server = await createServer(ctx, connections);
  installShutdownHandlers(logger, () => server.close(), (source) => ctx.metrics.unhandledErrors.inc({ source }));
  const port = await server.listen(config.port, config.host);
  logger.info(`Listening on http://${config.host}:${port}`, { port, env: config.nodeEnv });
}

main().catch((err: unknown) => {
  process.stderr.write(`Failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
