import { AppError, type PlatformErrorCode } from '../../platform/errors';

/** Codes of finance's own, beyond the platform's: part of its contract (index.ts). */
export const FINANCE_ERROR_CODES = ['CREDIT_LIMIT_EXCEEDED', 'CREDIT_LINE_UNAVAILABLE', 'PROVIDER_UNAVAILABLE', 'REFUND_EXCEEDS_PAYMENT', 'PAYMENT_NOT_REFUNDABLE'] as const;
export type FinanceErrorCode = PlatformErrorCode | (typeof FINANCE_ERROR_CODES)[number];

const code = (c: FinanceErrorCode) => c;

export const financeErrors = {
  creditLimitExceeded: (available: number, currency: string) =>
    new AppError(code('CREDIT_LIMIT_EXCEEDED'), 'The amount exceeds the available credit', 409, [
      { field: 'available', message: `${available} ${currency}` },
    ]),
  lineUnavailable: (why: string) => new AppError(code('CREDIT_LINE_UNAVAILABLE'), why, 409),
  providerUnavailable: (provider: string) =>
    new AppError(code('PROVIDER_UNAVAILABLE'), `Payments through ${provider} are not configured`, 503),
  providerFailed: (provider: string) => new AppError('SERVICE_UNAVAILABLE', `${provider} did not accept the request, try again shortly`, 503),
  refundExceeds: (refundable: number, currency: string) =>
    new AppError(code('REFUND_EXCEEDS_PAYMENT'), 'The refund exceeds what is left of the payment', 409, [
      { field: 'refundable', message: `${refundable} ${currency}` },
    ]),
  notRefundable: (status: string) => new AppError(code('PAYMENT_NOT_REFUNDABLE'), `A ${status} payment cannot be refunded`, 409),
  idempotencyKeyRequired: () =>
    new AppError('VALIDATION_FAILED', 'The Idempotency-Key header is required', 400, [
      { field: 'Idempotency-Key', message: 'Idempotency-Key must be 1 to 200 letters, digits, _ : or -' },
    ]),
  idempotencyKeyReused: () => new AppError('CONFLICT', 'This Idempotency-Key was used for a different request', 409),
  forbiddenRefund: () => new AppError('FORBIDDEN', 'Only the vendor or an admin may refund a payment', 403),
  notFound: (what: string) => new AppError('NOT_FOUND', `${what} not found`, 404),
};
