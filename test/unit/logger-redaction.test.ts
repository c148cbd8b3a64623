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
        req: { method: 'GET', headers: { authorization: 'Basic secret-10', cookie: 'session=secret-11', host: 'dashboard' } },
        headers: { authorization: 'Zoho-oauthtoken secret-12', cookie: 'session=secret-13' },
        recordId: '4150868000000224001',
      },
      'a line with secrets',
    );
    logger.flush();
    const line = JSON.parse(written.trim()) as Record<string, unknown>;
    expect(written).not.toMatch(/secret-\d+/);
    expect(line).toMatchObject({ recordId: '4150868000000224001', req: { method: 'GET', headers: { host: 'dashboard', authorization: '[redacted]' } } });
  });
});
