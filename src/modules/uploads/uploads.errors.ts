import { AppError } from '../../platform/errors';

export const uploadErrors = {
  rangeNotSatisfiable: (size: number) =>
    new AppError('RANGE_NOT_SATISFIABLE', 'The requested range is outside the file', 416, undefined, {
      'Content-Range': `bytes */${size}`,
    }),
};
