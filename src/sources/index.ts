/**
 * Sources: open a local file or a URL as a stream with a name and an exact size, within
 * the limits the operator configured (file roots, SSRF guard, size and time limits).
 */
import { inspectFileSource, openFileSource } from './file-source.js';
import type { OpenedSource, SourceInfo, SourceLimits, SourceRef } from './types.js';
import { inspectUrlSource, openUrlSource } from './url-source.js';

export type { LookupFunction, ResolvedAddress } from './address-guard.js';
export { SourceError, SourceErrorCode, type SourceErrorOptions } from './errors.js';
export {
  SOURCE_DEFAULTS,
  sourceLimitsOf,
  type OpenedSource,
  type SourceInfo,
  type SourceLimits,
  type SourceRef,
} from './types.js';

/**
 * Opens a source for upload. The caller streams `stream` into the upload, may read
 * `sha256()` once it has ended, and must `close()` it whatever happened.
 * @throws SourceError with a `SOURCE_*` code; its `classification` says whether a retry can help
 */
export async function openSource(ref: SourceRef, limits: SourceLimits): Promise<OpenedSource> {
  return ref.kind === 'file' ? openFileSource(ref.path, limits) : openUrlSource(ref.url, limits);
}

/**
 * Runs every check {@link openSource} runs and reports the file name and size, for
 * `--dry-run`. A URL whose answer has no Content-Length is read (not kept) to be measured.
 * @throws SourceError as {@link openSource}
 */
export async function inspectSource(ref: SourceRef, limits: SourceLimits): Promise<SourceInfo> {
  return ref.kind === 'file' ? inspectFileSource(ref.path, limits) : inspectUrlSource(ref.url, limits);
}
