import type { WebhookHandler, WebhookHandlers, WebhookProvider } from './webhooks.types';
import { WEBHOOK_PROVIDERS } from './webhooks.model';

export type HandlerLookup = { handler: WebhookHandler } | { handler: null; note: string };

export interface HandlerRegistry extends WebhookHandlers {
  /** The handler for this event, or why there is none (the event is then ignored with that note). */
  find(provider: WebhookProvider, type: string): HandlerLookup;
}

/** Provider (and optionally event types) → handler. The inbox knows no business rules: modules register here at composition. */
export function createHandlerRegistry(): HandlerRegistry {
  const handlers = new Map<WebhookProvider, { handler: WebhookHandler; types: Set<string> | null }>();
  return {
    register(provider, handler, options = {}) {
      if (!(WEBHOOK_PROVIDERS as readonly string[]).includes(provider)) throw new Error(`Unknown webhook provider "${provider}"`);
      if (handlers.has(provider)) throw new Error(`A webhook handler for "${provider}" is already registered`);
      handlers.set(provider, { handler, types: options.types ? new Set(options.types) : null });
    },
    find(provider, type) {
      const entry = handlers.get(provider);
      if (!entry) return { handler: null, note: `No handler is registered for ${provider}; a replay after one registers processes it` };
      if (entry.types && !entry.types.has(type)) return { handler: null, note: `No handler takes ${type} events from ${provider}` };
      return { handler: entry.handler };
    },
  };
}
