import { AppError } from '../../platform/errors';

/** The AI module's own error codes (listed in docs/openapi/ai.yaml). */
export const AI_ERROR_CODES = ['PROVIDER_UNAVAILABLE'] as const;
export type AiErrorCode = (typeof AI_ERROR_CODES)[number];

export const aiErrors = {
  /** AI_PROVIDER_URL is not set on this server: nothing is recorded and no provider is called. */
  providerUnavailable: () => new AppError('PROVIDER_UNAVAILABLE' satisfies AiErrorCode, 'AI features are not configured on this server', 503),
};
