import { AppError, type PlatformErrorCode } from '../../platform/errors';

/** Codes of the inbox's own, beyond the platform's: part of its contract (index.ts). */
export const WEBHOOKS_ERROR_CODES = ['WEBHOOK_SIGNATURE_INVALID', 'PROVIDER_UNAVAILABLE'] as const;
export type WebhooksErrorCode = PlatformErrorCode | (typeof WEBHOOKS_ERROR_CODES)[number];

/** Why a delivery was refused: the label of `webhook_deliveries_refused_total{reason}`. */
export type RefusalReason = 'signature' | 'stale' | 'malformed' | 'too_large' | 'unconfigured';

/** A refused delivery: nothing is stored and no handler runs. */
export class WebhookRefusal extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookRefusal';
  }
}

export function refusalToAppError(refusal: WebhookRefusal): AppError {
  switch (refusal.reason) {
    case 'signature':
    case 'stale':
      return new AppError('WEBHOOK_SIGNATURE_INVALID' satisfies WebhooksErrorCode, refusal.message, 401);
    case 'too_large':
      return new AppError('PAYLOAD_TOO_LARGE', refusal.message, 413);
    case 'unconfigured':
      return new AppError('PROVIDER_UNAVAILABLE' satisfies WebhooksErrorCode, refusal.message, 503);
    default:
      return new AppError('VALIDATION_FAILED', refusal.message, 400, [{ field: 'body', message: refusal.message }]);
  }
}

export const webhooksErrors = {
  eventNotFound: () => new AppError('NOT_FOUND', 'Webhook event not found', 404),
};
