import type { WebhookHandler, WebhookHandlers, WebhookProvider } from './webhooks.types';
import { WEBHOOK_PROVIDERS } from './webhooks.model';

export interface HandlerRegistry extends WebhookHandlers {
  get(provider: WebhookProvider): WebhookHandler | null;
}

/** Provider → handler. The inbox knows no business rules: modules register here at composition. */
export function createHandlerRegistry(): HandlerRegistry {
  const handlers = new Map<WebhookProvider, WebhookHandler>();
  return {
    register(provider, handler) {
      if (!(WEBHOOK_PROVIDERS as readonly string[]).includes(provider)) throw new Error(`Unknown webhook provider "${provider}"`);
      if (handlers.has(provider)) throw new Error(`A webhook handler for "${provider}" is already registered`);
      handlers.set(provider, handler);
    },
    get: (provider) => handlers.get(provider) ?? null,
  };
}
