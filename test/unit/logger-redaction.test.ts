/**
 * The logger blanks secrets wherever the code is likely to put them: top level, one level
 * down (`{ token: { accessToken } }`), and in a request logged whole.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/shared/logger.js';

describe('createLogger', () => {
  it('redacts tokens, secrets, passwords, authorization headers and cookies', () => {
    const destination = new PassThrough();
    let written = '';
    destination.on('data', (chunk: Buffer) => (written += chunk.toString()));
    const logger = createLogger({ level: 'info', destination });
    logger.info(
      {
        authorization: 'Zoho-oauthtoken secret-1',
        accessToken: 'secret-2',
        refresh_token: 'secret-3',
        token: { accessToken: 'secret-4', refreshToken: 'secret-5' },
        oauth: { client_secret: 'secret-6', clientSecret: 'secret-7', access_token: 'secret-8' },
        user: { password: 'secret-9' },
        req: {
          method: 'GET',
          headers: { authorization: 'Basic secret-10', cookie: 'session=secret-11', host: 'dashboard' },
        },
        headers: { authorization: 'Zoho-oauthtoken secret-12', cookie: 'session=secret-13' },
        recordId: '4150868000000224001',
      },
      'a line with secrets',
    );
    logger.flush();
    const line = JSON.parse(written.trim()) as Record<string, unknown>;
    expect(written).not.toMatch(/secret-\d+/);
    expect(line).toMatchObject({
      recordId: '4150868000000224001',
      req: { method: 'GET', headers: { host: 'dashboard', authorization: '[redacted]' } },
    });
  });
});

describe('createLogger and Redis errors', () => {
  function capture(): { logger: ReturnType<typeof createLogger>; written: () => string } {
    const destination = new PassThrough();
    let written = '';
    destination.on('data', (chunk: Buffer) => (written += chunk.toString()));
    return { logger: createLogger({ level: 'trace', destination }), written: () => written };
  }

  /** What ioredis emits when AUTH fails: the password is the command's argument. */
  function authError(password: string): Error {
    return Object.assign(new Error('WRONGPASS invalid username-password pair or user is disabled.'), {
      name: 'ReplyError',
      command: { name: 'auth', args: [password] },
    });
  }

  it('logs a Redis error without its command arguments, under err, error or nested anywhere', () => {
    const { logger, written } = capture();
    logger.error({ err: authError('pw-secret-1') }, 'worker error');
    logger.warn({ error: authError('pw-secret-2') }, 'connection error');
    logger.warn({ outcome: { failure: authError('pw-secret-3') } }, 'nested');
    logger.error(new Error('wrapped', { cause: authError('pw-secret-4') }), 'with a cause');
    const aggregate = new AggregateError([authError('pw-secret-5')], 'all failed');
    logger.error({ err: aggregate }, 'aggregate');
    const tokenWrite = Object.assign(new Error('OOM command not allowed'), {
      command: { name: 'set', args: ['q:oauth:token', '{"accessToken":"pw-secret-6"}'] },
    });
    logger.error({ err: tokenWrite }, 'token write failed');
    logger.flush();
    expect(written()).not.toMatch(/pw-secret-\d/);
    const first = JSON.parse(written().split('\n')[0]!) as { err: { message: string; command: unknown } };
    expect(first.err).toMatchObject({ message: expect.stringContaining('WRONGPASS'), command: { name: 'auth' } });
  });

  it('redacts the password of a URL in the message, in fields and in error messages', () => {
    const { logger, written } = capture();
    logger.info('cannot reach Redis at redis://:pw-secret-1@10.0.0.5:6379: refused');
    logger.info(
      { url: 'redis://10.0.0.5:6379/0?password=pw-secret-2', nested: { urls: ['rediss://user:pw-secret-3@host'] } },
      'fields',
    );
    logger.error({ err: new Error('connect to redis://:pw-secret-4@host failed') }, 'error');
    logger.flush();
    expect(written()).not.toMatch(/pw-secret-\d/);
    expect(written()).toContain('redis://:***@10.0.0.5:6379: refused');
  });
});
