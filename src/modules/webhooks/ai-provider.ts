/** How the server starts work at the AI provider; the result comes back later as a signed callback. */
export interface AiProvider {
  startTask(request: { correlationId: string; task: string; input: Record<string, string>; callbackUrl: string }): Promise<void>;
}

/**
 * The provider over HTTP: `POST <AI_PROVIDER_URL>/tasks` with the task and where to call back.
 * The secret is not sent: the provider signs its callback with the shared Standard Webhooks secret.
 */
export function createHttpAiProvider(options: { url: string; timeoutMs?: number }): AiProvider {
  const base = options.url.replace(/\/+$/, '');
  return {
    async startTask(request) {
      const res = await fetch(`${base}/tasks`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(request),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) throw new Error(`The AI provider answered ${res.status}`);
    },
  };
}
