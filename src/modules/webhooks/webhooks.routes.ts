import express, { type NextFunction, type Request, type Response } from 'express';
import { createModuleRouter } from '../../platform/http/router';
import type { InboxService } from './inbox.service';
import { refusalToAppError, WebhookRefusal } from './webhooks.errors';
import type { WebhooksMetrics } from './webhooks.metrics';
import { WEBHOOK_PROVIDERS, type Provider } from './webhooks.model';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * POST /api/webhooks/<provider>. The app's JSON parser skips /api/webhooks/ (src/app.ts), so the
 * raw bytes reach the verifier untouched; this router reads them itself, with its own limit.
 */
export function createWebhooksRouter(deps: { inbox: InboxService; metrics: WebhooksMetrics; bodyLimitBytes: number; clock: () => Date }) {
  const { inbox, metrics } = deps;
  const routes = createModuleRouter('/api/webhooks');
  const readRaw = express.raw({ type: () => true, limit: deps.bodyLimitBytes });

  for (const provider of WEBHOOK_PROVIDERS) {
    // Refuse a switched-off provider before reading its body.
    const configured = (_req: Request, _res: Response, next: NextFunction) => {
      if (inbox.isConfigured(provider)) return next();
      metrics.refused.inc({ provider, reason: 'unconfigured' });
      next(refusalToAppError(new WebhookRefusal('unconfigured', `Webhooks from ${provider} are not configured on this server`)));
    };
    const raw = (req: Request, res: Response, next: NextFunction) => {
      readRaw(req, res, (err?: unknown) => {
        if (!err) return next();
        const tooLarge = (err as { type?: string }).type === 'entity.too.large';
        metrics.refused.inc({ provider, reason: tooLarge ? 'too_large' : 'malformed' });
        next(tooLarge ? refusalToAppError(new WebhookRefusal('too_large', 'The webhook body is too large')) : err);
      });
    };
    routes.post(`/${provider}`, configured, raw, async (req: Request, res: Response) => {
      const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const receipt = await receiveOrRefuse(provider, req, body);
      res.status(200).json({ data: { id: receipt.id, duplicate: receipt.duplicate } });
    });
  }

  async function receiveOrRefuse(provider: Provider, req: Request, body: Buffer) {
    try {
      let text: string;
      try {
        text = utf8.decode(body);
      } catch {
        metrics.refused.inc({ provider, reason: 'malformed' });
        throw new WebhookRefusal('malformed', 'The body is not UTF-8 text');
      }
      if (body.length === 0 || body.includes(0)) {
        metrics.refused.inc({ provider, reason: 'malformed' });
        throw new WebhookRefusal('malformed', 'The body is empty or holds NUL bytes');
      }
      return await inbox.receive(provider, { body, text, headers: req.headers, originalUrl: req.originalUrl, now: deps.clock() });
    } catch (err) {
      throw err instanceof WebhookRefusal ? refusalToAppError(err) : err;
    }
  }

  return routes;
}
