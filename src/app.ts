import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import cors from 'cors';
import compression from 'compression';
import swaggerUi from 'swagger-ui-express';
import type { AppContext } from './platform/context';
import type { AppModule } from './platform/module';
import type { RouteInfo } from './platform/http/router';
import { requestId } from './platform/http/request-id';
import { createRateLimit } from './platform/http/rate-limit';
import { errorHandler, notFound } from './platform/http/error-handler';
import { errors } from './platform/errors';

export interface AppOptions {
  modules: AppModule[];
  openApiDocument: Record<string, unknown>;
}

/** Records request counts and the duration histogram, labelled by route template, never raw path. */
function httpMetrics(ctx: AppContext): RequestHandler {
  return (req, res, next) => {
    const stop = ctx.metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      const status = String(res.statusCode);
      stop({ method: req.method, route, status });
      const counts = ctx.metrics.requestCounts;
      counts.total += 1;
      const statusClass = `${status[0]}xx`;
      counts.byStatusClass[statusClass] = (counts.byStatusClass[statusClass] ?? 0) + 1;
    });
    next();
  };
}

/** With METRICS_TOKEN set, a scraper must present it as a bearer token; compared in constant time. */
function metricsAuth(token: string | null): RequestHandler {
  if (!token) return (_req, _res, next) => next();
  const expected = createHash('sha256').update(token).digest();
  return (req, _res, next) => {
    const header = req.get('authorization') ?? '';
    const presented = createHash('sha256').update(header.startsWith('Bearer ') ? header.slice(7) : '').digest();
    if (timingSafeEqual(presented, expected)) return next();
    next(errors.unauthenticated('A valid metrics token is required'));
  };
}

export function listRoutes(modules: AppModule[]): RouteInfo[] {
  return modules.flatMap((module) => module.http?.routes ?? []);
}

/** Builds the Express app from modules; no listen (the server and the tests do that). */
export function createApp(ctx: AppContext, options: AppOptions): Express {
  const app = express();
  const { config } = ctx;
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.set('query parser', 'simple');

  app.use(requestId);
  app.use(httpMetrics(ctx));
  app.use(helmet());
  const corsPolicy = cors({
    origin: (origin, callback) => callback(null, !origin || config.corsOrigins.includes(origin)),
    exposedHeaders: ['X-Request-Id', 'RateLimit', 'RateLimit-Policy', 'Retry-After'],
    maxAge: 600,
  });
  // Only browsers (the admin dashboard) send Origin; the mobile app and the providers do not, and
  // CORS headers mean nothing to them. Vary stays, so a cache never hands a browser their answer.
  app.use((req, res, next) => {
    if (req.headers.origin !== undefined) return corsPolicy(req, res, next);
    res.setHeader('Vary', 'Origin');
    next();
  });
  app.use(compression());
  // Webhook signatures cover the raw bytes: the webhooks router reads its own body, so no parser may touch it first.
  const jsonBody = express.json({ limit: config.jsonBodyLimit });
  app.use((req, res, next) => (req.path.toLowerCase().startsWith('/api/webhooks/') ? next() : jsonBody(req, res, next)));

  app.get('/metrics', metricsAuth(config.metricsToken), async (_req, res) => {
    res.setHeader('Content-Type', ctx.metrics.registry.contentType);
    res.send(await ctx.metrics.registry.metrics());
  });
  app.get('/api/openapi.json', (_req, res) => {
    res.json(options.openApiDocument);
  });
  app.use('/api/docs', swaggerUi.serve, swaggerUi.setup(options.openApiDocument));

  // Probes are exempt from the global budget so a busy client cannot get a process marked down.
  // Provider webhooks are too: a gateway posts from a few IPs in bursts, and a 429 only makes it
  // retry later for nothing. The inbox bounds each body, verifies with one HMAC before storing
  // anything, and counts refusals in /metrics (webhook_deliveries_refused_total).
  const globalLimit = createRateLimit({
    name: 'api',
    windowMs: config.rateLimit.windowMs,
    limit: config.rateLimit.max,
    redis: ctx.redis,
    keyPrefix: config.redis.keyPrefix,
  });
  app.use('/api', (req, res, next) => {
    if (req.path === '/system/health' || req.path === '/system/ready' || req.path.toLowerCase().startsWith('/webhooks/')) return next();
    return globalLimit(req, res, next);
  });

  for (const module of options.modules) {
    if (module.http) app.use(module.http.mountPath, module.http.router);
  }

  app.use(notFound);
  app.use(errorHandler(ctx.logger, ctx.metrics));
  return app;
}
