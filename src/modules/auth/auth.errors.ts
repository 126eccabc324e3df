import { AppError, errors, type PlatformErrorCode } from '../../platform/errors';

/** Codes of auth's own, beyond the platform's: part of its contract (index.ts). */
export const AUTH_ERROR_CODES = ['ACCOUNT_SUSPENDED'] as const;
export type AuthErrorCode = PlatformErrorCode | (typeof AUTH_ERROR_CODES)[number];

/** The auth module's answers; the codes are documented in docs/openapi.yaml. */
export const authErrors = {
  // One message for unknown email and wrong password, so the answer does not reveal accounts.
  invalidCredentials: () => errors.unauthenticated('Email or password is incorrect'),
  accountLocked: (until: Date, now: Date) =>
    new AppError('ACCOUNT_LOCKED', 'Too many failed sign-ins; the account is temporarily locked', 423, undefined, {
      'Retry-After': String(Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000))),
    }),
  accountSuspended: () => new AppError('ACCOUNT_SUSPENDED' satisfies AuthErrorCode, 'This account is suspended', 403),
  invalidRefreshToken: () => errors.unauthenticated('The refresh token is invalid, expired or revoked'),
  refreshRaced: () =>
    errors.conflict('This refresh token was just used by another request; use the tokens that request received'),
  sessionRevoked: () => errors.unauthenticated('This session has been signed out'),
  invalidOneTimeToken: () =>
    errors.validation([{ field: 'token', message: 'The link is invalid, already used or expired' }], 'The token is not valid'),
  emailTaken: () => errors.conflict('An account with this email already exists'),
  wrongCurrentPassword: () =>
    errors.validation([{ field: 'currentPassword', message: 'The current password is incorrect' }]),
};
