/**
 * The one place that redacts: URLs lose their passwords (userinfo and query), Redis errors
 * their command arguments; nothing else changes.
 */
import { describe, expect, it } from 'vitest';
import { redactUrl, redactUrlsIn, safeErrorMessage, scrubError } from '../../src/shared/redact.js';

describe('redactUrl', () => {
  it.each([
    ['redis://:s3cret@127.0.0.1:6379', 'redis://:***@127.0.0.1:6379'],
    ['redis://default:s3cret@127.0.0.1:6379/2', 'redis://default:***@127.0.0.1:6379/2'],
    ['rediss://h:6380/?password=s3cret&db=1', 'rediss://h:6380/?password=***&db=1'],
    ['redis://h:6379?sentinelPassword=s3cret', 'redis://h:6379?sentinelPassword=***'],
    ['redis://:p%40ss%3Aw0rd@h:6379', 'redis://:***@h:6379'],
    ['https://user:s3cret@accounts.example', 'https://user:***@accounts.example/'],
    // Not parseable as a URL: the same patterns, by text.
    ['localhost:6379?password=s3cret', 'localhost:6379?password=***'],
    ['//:s3cret@host:6379', '//:***@host:6379'],
  ])('%s -> %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });

  it('leaves a URL with nothing to hide as it is, byte for byte', () => {
    for (const url of ['redis://127.0.0.1:6379', 'redis://user@h:6379', 'https://accounts.zoho.eu', 'redis://h?db=3'])
      expect(redactUrl(url)).toBe(url);
  });
});

describe('redactUrlsIn', () => {
  it('redacts every URL in a sentence and keeps the punctuation around it', () => {
    expect(redactUrlsIn('cannot reach Redis at redis://h:1/?password=s3cret: WRONGPASS. Also redis://:x2@h.')).toBe(
      'cannot reach Redis at redis://h:1/?password=***: WRONGPASS. Also redis://:***@h.',
    );
  });
});

describe('scrubError', () => {
  it('strips command arguments from the error and every error nested in it, keeping the command name', () => {
    const args = ['s3cret'];
    const inner = Object.assign(new Error('WRONGPASS'), { command: { name: 'auth', args } });
    const outer = Object.assign(new Error('outer', { cause: inner }), {
      previousErrors: [inner],
      lastNodeError: inner,
    });
    const aggregate = new AggregateError([outer], 'all');
    scrubError(aggregate);
    expect(inner).toMatchObject({ command: { name: 'auth' } });
    expect(JSON.stringify(inner)).not.toContain('s3cret');
    // The command itself keeps its arguments (ioredis may still need them).
    expect(args).toEqual(['s3cret']);
  });

  it('handles cycles and non-errors', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    a.cause = a;
    expect(scrubError(a)).toBe(a);
    expect(scrubError('text')).toBe('text');
    expect(scrubError(undefined)).toBeUndefined();
  });

  it('safeErrorMessage: the message with URLs redacted', () => {
    expect(safeErrorMessage(new Error('at redis://:s3cret@h:1 refused'))).toBe('at redis://:***@h:1 refused');
    expect(safeErrorMessage('plain')).toBe('plain');
  });
});
