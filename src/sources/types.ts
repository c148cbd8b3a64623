/**
 * The shapes shared by file and URL sources: what to open, within which limits, and what
 * an opened source gives back.
 */
import type { Readable } from 'node:stream';
import type { SourcesConfig } from '../config/config.js';
import type { LookupFunction } from './address-guard.js';

/** What to read: a local file (absolute path) or an http(s) URL. */
export type SourceRef = { kind: 'file'; path: string } | { kind: 'url'; url: string };

/**
 * Where sources may come from and how big and slow they may be. The first two fields come
 * from {@link SourcesConfig}; the rest have defaults ({@link SOURCE_DEFAULTS}).
 */
export interface SourceLimits
  extends Pick<SourcesConfig, 'fileRoots' | 'allowPrivateUrls'>, Partial<Pick<SourcesConfig, 'allowDotfiles'>> {
  /**
   * Largest file or download accepted, in bytes.
   * @defaultValue 104857600 (100 MB)
   */
  maxBytes?: number;
  /**
   * For URLs: the longest wait for name resolution, a connection, the response headers, or
   * the next piece of the body (an idle timeout, so a large download may take longer).
   * @defaultValue 60000
   */
  timeoutMs?: number;
  /**
   * For URLs: the longest the whole download may take, however steadily the server trickles.
   * @defaultValue {@link defaultUrlDeadlineMs}(maxBytes)
   */
  deadlineMs?: number;
  /**
   * Redirects followed before giving up with `SOURCE_URL_TOO_MANY_REDIRECTS`.
   * @defaultValue 5
   */
  maxRedirects?: number;
  /**
   * Refuse local files that have more than one hard link. File roots protect *paths*: a
   * hard link inside a root to a file elsewhere cannot be told from an ordinary file, so
   * deployments where untrusted users can create links inside a root should set this.
   * Off by default because backup and dedup tools legitimately hard-link files.
   * @defaultValue false
   */
  refuseHardLinks?: boolean;
  /**
   * Addresses or CIDR ranges (`'127.0.0.1'`, `'10.1.2.0/24'`, `'fd00::/8'`) URLs may reach
   * although the SSRF guard would refuse them, for one known internal file server without
   * opening every private range with `allowPrivateUrls`.
   * @defaultValue none
   */
  allowedAddresses?: string[];
  /**
   * Resolves a host name to all its addresses. Tests inject one to make a name resolve to a
   * private address without touching real DNS.
   * @defaultValue `dns.lookup` with `all: true`
   */
  lookup?: LookupFunction;
  /**
   * Folder for the temporary copy of a download that has no Content-Length.
   * @defaultValue `os.tmpdir()`
   */
  spoolDir?: string;
}

/** Defaults of the optional {@link SourceLimits}. */
export const SOURCE_DEFAULTS = {
  maxBytes: 100 * 1024 * 1024,
  timeoutMs: 60_000,
  maxRedirects: 5,
} as const;

/** The limits a configuration sets: one place, for the worker, the dry run and the library. */
export function sourceLimitsOf(sources: SourcesConfig): SourceLimits {
  return {
    fileRoots: sources.fileRoots,
    allowPrivateUrls: sources.allowPrivateUrls,
    allowDotfiles: sources.allowDotfiles,
    refuseHardLinks: sources.refuseHardLinks,
    ...(sources.urlDeadlineMs === undefined ? {} : { deadlineMs: sources.urlDeadlineMs }),
  };
}

/** The slowest download rate the default deadline still lets finish: 128 KiB/s. */
export const SLOWEST_HONEST_RATE_BYTES_PER_S = 128 * 1024;

/**
 * The default total deadline of a URL download: the size cap at {@link SLOWEST_HONEST_RATE_BYTES_PER_S},
 * plus a minute for the connection and redirects. For the 100 MB cap: 800 s + 60 s = 14 min 20 s.
 */
export function defaultUrlDeadlineMs(maxBytes: number): number {
  return Math.ceil((maxBytes / SLOWEST_HONEST_RATE_BYTES_PER_S) * 1000) + 60_000;
}

/** A source ready to be streamed into an upload. */
export interface OpenedSource {
  /** The name to upload under: the path's base name, or the download's file name. */
  fileName: string;
  /** The exact number of bytes `stream` will deliver. */
  size: number;
  /**
   * The content. It fails with a {@link SourceError} when the source delivers more or
   * fewer than `size` bytes, times out or breaks. Read it once: it cannot be replayed.
   */
  stream: Readable;
  /**
   * The hex SHA-256 of what `stream` delivered.
   * @throws Error when called before `stream` has ended
   */
  sha256(): string;
  /** Releases the file handle, HTTP connection and temporary file. Idempotent. */
  close(): Promise<void>;
}

/** What a dry run learns about a source. */
export interface SourceInfo {
  fileName: string;
  size: number;
}
