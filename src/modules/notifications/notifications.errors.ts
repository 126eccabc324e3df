import { AppError, type PlatformErrorCode } from '../../platform/errors';

/** Notifications add no codes of their own beyond the platform's. */
export const NOTIFICATION_ERROR_CODES = [] as const;
export type NotificationErrorCode = PlatformErrorCode;

export const notificationErrors = {
  notFound: () => new AppError('NOT_FOUND', 'Notification not found', 404),
  actionNotFound: () => new AppError('NOT_FOUND', 'Action not found', 404),
  deviceNotFound: () => new AppError('NOT_FOUND', 'Device not found', 404),
  campaignNotFound: () => new AppError('NOT_FOUND', 'Campaign not found', 404),
};
