import type { RequestHandler } from 'express';
import { createModuleRouter } from '../../platform/http/router';
import { AppError, errorBody } from '../../platform/errors';
import type { SystemService } from './system.service';

export function createSystemRouter(service: SystemService, adminOnly: RequestHandler) {
  const routes = createModuleRouter('/api/system');

  // Liveness: no I/O, so a slow database never gets a healthy process restarted.
  routes.get('/health', (_req, res) => {
    res.json({ data: { status: 'ok', time: new Date().toISOString() } });
  });

  routes.get('/ready', async (_req, res) => {
    const readiness = await service.readiness();
    if (readiness.status === 'unavailable') {
      const down = Object.entries(readiness.checks).filter(([, check]) => check.status === 'down');
      const err = new AppError(
        'SERVICE_UNAVAILABLE',
        'Not ready: a required dependency is unavailable',
        503,
        down.map(([name, check]) => ({ field: name, message: check.error ?? 'down' })),
      );
      res.status(503).json({ ...errorBody(err, res.locals.requestId as string), data: readiness });
      return;
    }
    res.json({ data: readiness });
  });

  // Process internals are for the admin dashboard, not for anyone who can reach the API.
  routes.get('/stats', adminOnly, (_req, res) => {
    res.json({ data: service.stats() });
  });

  return routes;
}
