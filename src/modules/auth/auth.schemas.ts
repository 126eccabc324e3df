import { defineSchema } from '../../platform/http/validate';
import { passwordProblem, MAX_PASSWORD_BYTES } from './passwords';

const email = {
  type: 'string',
  exists: { errorMessage: 'email is required', bail: true },
  isString: { errorMessage: 'email must be a string', bail: true },
  trim: true,
  isLength: { options: { max: 254 }, errorMessage: 'email must be at most 254 characters', bail: true },
  isEmail: { errorMessage: 'email must be a valid email address', bail: true },
  toLowerCase: true,
} as const;

/** A new password: strength rules plus the explicit 72-byte bcrypt limit. */
const newPassword = (field: string) =>
  ({
    type: 'string',
    exists: { errorMessage: `${field} is required`, bail: true },
    isString: { errorMessage: `${field} must be a string`, bail: true },
    custom: {
      options: (value: string) => {
        const problem = passwordProblem(value);
        if (problem) throw new Error(`${field} ${problem}`);
        return true;
      },
    },
  }) as const;

/** An existing password is only checked for shape: bcrypt limits still apply. */
const anyPassword = (field: string) =>
  ({
    type: 'string',
    exists: { errorMessage: `${field} is required`, bail: true },
    isString: { errorMessage: `${field} must be a string`, bail: true },
    custom: {
      options: (value: string) => {
        if (value.length === 0) throw new Error(`${field} is required`);
        if (Buffer.byteLength(value, 'utf8') > MAX_PASSWORD_BYTES) throw new Error(`${field} must be at most ${MAX_PASSWORD_BYTES} bytes (UTF-8)`);
        return true;
      },
    },
  }) as const;

const token = (field: string) =>
  ({
    type: 'string',
    exists: { errorMessage: `${field} is required`, bail: true },
    isString: { errorMessage: `${field} must be a string`, bail: true },
    isLength: { options: { min: 20, max: 200 }, errorMessage: `${field} is malformed`, bail: true },
    matches: { options: /^[A-Za-z0-9_-]+$/, errorMessage: `${field} is malformed` },
  }) as const;

export const deviceName = {
  type: 'string',
  optional: true,
  isString: { errorMessage: 'deviceName must be a string', bail: true },
  trim: true,
  isLength: { options: { max: 100 }, errorMessage: 'deviceName must be at most 100 characters' },
} as const;

export const registerSchema = defineSchema({
  email,
  password: newPassword('password'),
  name: {
    type: 'string',
    exists: { errorMessage: 'name is required', bail: true },
    isString: { errorMessage: 'name must be a string', bail: true },
    trim: true,
    isLength: { options: { min: 1, max: 100 }, errorMessage: 'name must be 1 to 100 characters' },
  },
  phone: {
    type: 'string',
    optional: true,
    isString: { errorMessage: 'phone must be a string', bail: true },
    matches: { options: /^\+[1-9]\d{6,14}$/, errorMessage: 'phone must be in E.164 format, e.g. +919876543210' },
  },
  role: {
    type: 'string',
    optional: true,
    oneOf: ['user', 'vendor'],
  },
  deviceName,
});

export const loginSchema = defineSchema({ email, password: anyPassword('password'), deviceName });
export const refreshSchema = defineSchema({ refreshToken: token('refreshToken'), deviceName });
export const emailOnlySchema = defineSchema({ email });
export const verifyEmailSchema = defineSchema({ token: token('token') });
export const resetPasswordSchema = defineSchema({ token: token('token'), password: newPassword('password') });
export const changePasswordSchema = defineSchema({
  currentPassword: anyPassword('currentPassword'),
  newPassword: newPassword('newPassword'),
});
export const sessionIdParamSchema = defineSchema({
  id: { in: ['params'], type: 'string', isMongoId: { errorMessage: 'id must be a valid id' } },
});
