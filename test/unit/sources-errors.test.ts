/** SourceError: codes, the classification each implies, and what it serializes to. */
import { describe, expect, it } from 'vitest';
import { ClassifiedError } from '../../src/shared/errors.js';
import { SourceError, SourceErrorCode } from '../../src/sources/errors.js';

describe('SourceError', () => {
  it('is a ClassifiedError whose message starts with the code', () => {
    const error = new SourceError(SourceErrorCode.NOT_FOUND, '/data/a.pdf does not exist');
    expect(error).toBeInstanceOf(ClassifiedError);
    expect(error.name).toBe('SourceError');
    expect(error.message).toBe('[SOURCE_NOT_FOUND] /data/a.pdf does not exist');
    expect(error.reason).toBe('/data/a.pdf does not exist');
  });

  it('classifies by code: only changes of the moment are transient', () => {
    const transient = [
      'SOURCE_CHANGED',
      'SOURCE_LENGTH_MISMATCH',
      'SOURCE_SPOOL_FAILED',
      'SOURCE_URL_TIMEOUT',
      'SOURCE_URL_NETWORK',
    ];
    for (const code of Object.values(SourceErrorCode)) {
      expect([code, new SourceError(code, 'x').classification]).toEqual([
        code,
        transient.includes(code) ? 'transient' : 'permanent',
      ]);
    }
  });

  it('takes an explicit classification, the HTTP status and the cause', () => {
    const cause = new Error('socket hang up');
    const error = new SourceError(SourceErrorCode.URL_HTTP_ERROR, 'answered HTTP 503', {
      classification: 'transient',
      httpStatus: 503,
      cause,
    });
    expect(error.classification).toBe('transient');
    expect(error.cause).toBe(cause);
    expect(error.toJSON()).toEqual({
      code: 'SOURCE_URL_HTTP_ERROR',
      classification: 'transient',
      message: 'answered HTTP 503',
      ambiguous: false,
      httpStatus: 503,
    });
    expect(new SourceError(SourceErrorCode.NOT_FOUND, 'x').toJSON()).not.toHaveProperty('httpStatus');
  });
});
