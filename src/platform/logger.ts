import winston from 'winston';
import { currentRequestId } from './request-context';

export type Logger = winston.Logger;

// Keys whose values never reach a log line, at any depth (compared case-insensitively, without
// separators, so "refresh_token", "refreshToken" and "x-refresh-token" all match "refreshtoken").
const SECRET_KEYS = [
  'password', 'newpassword', 'currentpassword', 'passwordhash', 'token', 'accesstoken',
  'refreshtoken', 'secret', 'authorization', 'cookie', 'signature', 'otp', 'otpcode', 'apikey',
  'xrazorpaysignature', 'stripesignature', 'xtwiliosignature', 'jwtsecret', 'tokenhash',
];
const SECRET_SET = new Set(SECRET_KEYS);
const normaliseKey = (key: string) => key.toLowerCase().replace(/[^a-z]/g, '');

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_SET.has(normaliseKey(key)) ? '[REDACTED]' : redact(item, depth + 1);
  }
  return out;
}

const redactFormat = winston.format((info) => {
  const requestId = currentRequestId();
  const cleaned = redact({ ...info }) as winston.Logform.TransformableInfo;
  if (requestId && !cleaned.requestId) cleaned.requestId = requestId;
  // winston keeps level and message under symbols too; copy them across.
  for (const sym of Object.getOwnPropertySymbols(info)) {
    (cleaned as unknown as Record<symbol, unknown>)[sym] = (info as unknown as Record<symbol, unknown>)[sym];
  }
  return cleaned;
});

export function createLogger(options: { level: string; json: boolean; silent?: boolean }): Logger {
  const format = options.json
    ? winston.format.combine(redactFormat(), winston.format.timestamp(), winston.format.json())
    : winston.format.combine(
        redactFormat(),
        winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
        winston.format.colorize(),
        winston.format.printf(({ timestamp, level, message, requestId, ...rest }) => {
          const id = requestId ? ` [${String(requestId)}]` : '';
          const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
          return `${String(timestamp)} ${level}${id} ${String(message)}${extra}`;
        }),
      );
  return winston.createLogger({
    level: options.level,
    format,
    silent: options.silent ?? false,
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn'] })],
  });
}
