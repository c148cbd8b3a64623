/**
 * Every way opening a source can fail, as one error class with a stable `code`. This file
 * decides which failures are worth retrying: a row whose file is missing or whose URL is
 * refused will fail the same way every time, while a timeout or a file caught mid-write
 * may succeed on the next attempt.
 */
import { ClassifiedError, type ErrorClassification } from '../shared/errors.js';

/** The codes a {@link SourceError} can carry. */
export const SourceErrorCode = {
  /** The path names nothing (or a component of it is not a folder). */
  NOT_FOUND: 'SOURCE_NOT_FOUND',
  /** The path, once `..` and symlinks are resolved, is not under any file root. */
  OUTSIDE_ROOTS: 'SOURCE_OUTSIDE_ROOTS',
  /** A folder, FIFO, socket or device: only regular files are uploaded. */
  NOT_A_FILE: 'SOURCE_NOT_A_FILE',
  /** Larger than `maxBytes`. */
  TOO_LARGE: 'SOURCE_TOO_LARGE',
  /** A file name Zoho refuses (`.exe`). */
  FORBIDDEN_TYPE: 'SOURCE_FORBIDDEN_TYPE',
  /** The file cannot be read (EACCES, EPERM; transient when a read fails midway). */
  UNREADABLE: 'SOURCE_UNREADABLE',
  /** The file changed size (or was swapped) while it was being opened or read. Transient. */
  CHANGED: 'SOURCE_CHANGED',
  /** 0 bytes, refused where the rows are checked before enqueueing unless empty files are allowed. */
  EMPTY: 'SOURCE_EMPTY',
  /** A file has more than one hard link and `refuseHardLinks` is set. */
  HARD_LINKED: 'SOURCE_HARD_LINKED',
  /** The server sent fewer bytes than its Content-Length promised. Transient. */
  LENGTH_MISMATCH: 'SOURCE_LENGTH_MISMATCH',
  /** The temporary copy of a download without Content-Length could not be written or read (disk full). Transient. */
  SPOOL_FAILED: 'SOURCE_SPOOL_FAILED',
  /** The URL, or a redirect, resolves to an address the SSRF guard refuses. */
  URL_BLOCKED: 'SOURCE_URL_BLOCKED',
  /** Not an http(s) URL, or a URL carrying credentials. */
  URL_INVALID: 'SOURCE_URL_INVALID',
  /** A non-2xx answer: 4xx permanent (except 408, 425, 429), 5xx transient. */
  URL_HTTP_ERROR: 'SOURCE_URL_HTTP_ERROR',
  /** No connection, no headers, or no body data within `timeoutMs`. Transient. */
  URL_TIMEOUT: 'SOURCE_URL_TIMEOUT',
  /** More redirects than `maxRedirects`. */
  URL_TOO_MANY_REDIRECTS: 'SOURCE_URL_TOO_MANY_REDIRECTS',
  /** Name resolution failed, or the connection was refused or reset. Transient. */
  URL_NETWORK: 'SOURCE_URL_NETWORK',
} as const;

/** One of {@link SourceErrorCode}. */
export type SourceErrorCode = (typeof SourceErrorCode)[keyof typeof SourceErrorCode];

const TRANSIENT_CODES: ReadonlySet<SourceErrorCode> = new Set([
  SourceErrorCode.CHANGED,
  SourceErrorCode.LENGTH_MISMATCH,
  SourceErrorCode.SPOOL_FAILED,
  SourceErrorCode.URL_TIMEOUT,
  SourceErrorCode.URL_NETWORK,
]);

/** Context a {@link SourceError} may carry besides its code and message. */
export interface SourceErrorOptions {
  cause?: unknown;
  /** Overrides the classification the code implies (an HTTP 503 is transient, a 404 is not). */
  classification?: ErrorClassification;
  /** The HTTP status, for {@link SourceErrorCode.URL_HTTP_ERROR}. */
  httpStatus?: number;
}

/** A source that cannot be opened or read. Callers branch on `code` and `classification`. */
export class SourceError extends ClassifiedError {
  override readonly name = 'SourceError';
  declare readonly code: SourceErrorCode;
  readonly httpStatus: number | undefined;

  constructor(code: SourceErrorCode, message: string, options: SourceErrorOptions = {}) {
    super({
      code,
      classification: options.classification ?? (TRANSIENT_CODES.has(code) ? 'transient' : 'permanent'),
      message,
      cause: options.cause,
    });
    this.httpStatus = options.httpStatus;
  }

  override toJSON(): Record<string, unknown> {
    return this.httpStatus === undefined ? super.toJSON() : { ...super.toJSON(), httpStatus: this.httpStatus };
  }
}
