import { Writable } from 'node:stream';
import winston from 'winston';
import { createLogger, redact } from '../../src/platform/logger';
import { requestContext } from '../../src/platform/request-context';

describe('log redaction', () => {
  it('hides passwords, tokens, secrets and signatures at any depth and keeps everything else', () => {
    const cleaned = redact({
      email: 'a@b.test',
      password: 'hunter2',
      nested: { refresh_token: 'r1', accessToken: 'a1', headers: { authorization: 'Bearer x', 'x-razorpay-signature': 'sig' } },
      list: [{ newPassword: 'p2', otp: '123456' }],
      code: 'VALIDATION_FAILED',
    });
    expect(cleaned).toEqual({
      email: 'a@b.test',
      password: '[REDACTED]',
      nested: { refresh_token: '[REDACTED]', accessToken: '[REDACTED]', headers: { authorization: '[REDACTED]', 'x-razorpay-signature': '[REDACTED]' } },
      list: [{ newPassword: '[REDACTED]', otp: '[REDACTED]' }],
      code: 'VALIDATION_FAILED',
    });
  });

  it('writes JSON lines that carry the request id and no secret', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', json: true });
    logger.clear();
    logger.add(
      new winston.transports.Stream({
        stream: new Writable({
          write(chunk, _enc, done) {
            lines.push(String(chunk));
            done();
          },
        }),
      }),
    );
    requestContext.run({ requestId: 'req-42' }, () => logger.info('signed in', { user: { password: 'pw', token: 'tk' } }));
    const entry = JSON.parse(lines[0] as string);
    expect(entry).toMatchObject({ level: 'info', message: 'signed in', requestId: 'req-42', user: { password: '[REDACTED]', token: '[REDACTED]' } });
    expect(lines[0]).not.toMatch(/"pw"|"tk"/);
  });
});
