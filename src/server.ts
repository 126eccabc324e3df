import http from 'node:http';
import type { Express } from 'express';
import type { Server as IoServer } from 'socket.io';
import type { AppContext } from './platform/context';
import type { Config } from './config';
import type { AppModule } from './platform/module';
import type { Connections } from './platform/connections';
import { closeConnections } from './platform/connections';
import { createIo } from './platform/socket/io';
import { loadOpenApiDocument } from './platform/openapi';
import { syncIndexes } from './platform/mongo';
import { createApp } from './app';
import { createModules } from './modules';

export interface RunningServer {
  app: Express;
  httpServer: http.Server;
  io: IoServer;
  modules: AppModule[];
  listen(port: number, host?: string): Promise<number>;
  /** Stops accepting, lets in-flight requests finish (bounded), closes sockets and connections. */
  close(): Promise<void>;
  isShuttingDown(): boolean;
}

export async function createServer(ctx: AppContext<Config>, connections: Connections): Promise<RunningServer> {
  let shuttingDown = false;
  // One request listener, registered before Socket.io attaches: engine.io then wraps it and answers
  // /socket.io/ itself, passing every other request to Express. (Adding Express as a second
  // listener afterwards made both answer a long-polling request, and the second write crashed.)
  const served: { app?: Express } = {};
  const httpServer = http.createServer((req, res) => {
    if (served.app) return served.app(req, res);
    res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '1' });
    res.end(JSON.stringify({ error: { code: 'SERVICE_UNAVAILABLE', message: 'Starting up, try again shortly' } }));
  });
  // Slowloris protection comes from the headers deadline; the whole-request deadline is long
  // enough for a 20 MB upload over slow mobile data. Keep-alive outlasts load balancers' 60 s.
  httpServer.headersTimeout = 20_000;
  httpServer.requestTimeout = 5 * 60_000;
  httpServer.keepAliveTimeout = 65_000;

  const modules: AppModule[] = [];
  const io = createIo({
    httpServer,
    corsOrigins: ctx.config.corsOrigins,
    adapterRedis: connections.adapterRedis,
    keyPrefix: ctx.config.redis.keyPrefix,
    logger: ctx.logger,
    metrics: ctx.metrics,
    authenticate: (socket) => {
      const authenticator = modules.find((module) => module.authenticateSocket)?.authenticateSocket;
      return authenticator ? authenticator(socket) : Promise.resolve();
    },
  });

  modules.push(
    ...createModules({
      ctx,
      config: ctx.config,
      io,
      openSockets: () => io.engine.clientsCount,
      isShuttingDown: () => shuttingDown,
    }),
  );
  await syncIndexes(ctx.mongo);

  io.on('connection', (socket) => {
    for (const module of modules) module.onSocket?.(socket);
  });

  const builtApp = createApp(ctx, { modules, openApiDocument: await loadOpenApiDocument() });
  served.app = builtApp;
  for (const module of modules) await module.start?.();
  // After every module registered its queues and schedules.
  await ctx.jobs.start();

  return {
    app: builtApp,
    httpServer,
    io,
    modules,
    isShuttingDown: () => shuttingDown,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          httpServer.off('error', reject);
          const address = httpServer.address();
          resolve(typeof address === 'object' && address ? address.port : port);
        });
      });
    },
    async close() {
      if (shuttingDown) return;
      shuttingDown = true;
      const { logger, config } = ctx;
      logger.info('Shutting down: no new connections, waiting for in-flight requests');
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), config.shutdownTimeoutMs);
      });
      // io.close() disconnects sockets, closes the adapter and calls httpServer.close(), which
      // stops accepting and resolves once in-flight requests are answered.
      const outcome = await Promise.race([io.close().then(() => 'closed' as const), deadline]);
      clearTimeout(timer);
      if (outcome === 'timeout') logger.warn('Shutdown deadline reached; closing remaining connections');
      httpServer.closeAllConnections();
      for (const module of [...modules].reverse()) await module.stop?.();
      await ctx.jobs.close();
      await ctx.events.drain();
      await closeConnections(connections, logger);
      ctx.metrics.stop();
      logger.info('Shutdown complete');
    },
  };
}
