import { AppError, type PlatformErrorCode } from '../../platform/errors';

/** Codes of uploads' own, beyond the platform's: part of its contract (index.ts). */
export const UPLOADS_ERROR_CODES = ['RANGE_NOT_SATISFIABLE'] as const;
export type UploadsErrorCode = PlatformErrorCode | (typeof UPLOADS_ERROR_CODES)[number];

export const uploadsErrors = {
  rangeNotSatisfiable: (size: number) =>
    new AppError('RANGE_NOT_SATISFIABLE' satisfies UploadsErrorCode, 'The requested range is outside the file', 416, undefined, {
      'Content-Range': `bytes */${size}`,
    }),
};
