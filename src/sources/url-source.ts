/**
 * URLs as sources. Each hop (the URL and every redirect) is resolved and judged by the
 * SSRF guard before anything connects, and the connection is pinned to the address that
 * was judged. The body is uploaded exactly as served: `accept-encoding: identity` is asked
 * for and nothing is decompressed, so a gzip bomb stays a small gzip file.
 *
 * Zoho needs the exact size before the upload starts. A trustworthy Content-Length gives
 * it (and is verified while streaming); without one (chunked) the body is spooled to a
 * temporary file first. Either way memory stays flat.
 */
import { randomUUID } from 'node:crypto';
import type { LookupAddress, LookupOptions } from 'node:dns';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Agent, request, type Dispatcher } from 'undici';
import {
  addressPolicy,
  resolveAllowedAddress,
  systemLookup,
  type GuardContext,
  type ResolvedAddress,
} from './address-guard.js';
import { fileNameFromContentDisposition } from '../shared/content-disposition.js';
import { cleanFileName } from '../shared/file-name.js';
import { SourceError, SourceErrorCode } from './errors.js';
import { isForbiddenFileName } from './file-name.js';
import { hashSource, type HashingStream } from './hashing-stream.js';
import { SpoolFile } from './spool-file.js';
import {
  defaultUrlDeadlineMs,
  SOURCE_DEFAULTS,
  type OpenedSource,
  type SourceInfo,
  type SourceLimits,
} from './types.js';

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
// 4xx answers that say "not now" rather than "never".
const TRANSIENT_CLIENT_STATUSES: ReadonlySet<number> = new Set([408, 425, 429]);
const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);
// How undici reports a connection that closed before the declared Content-Length arrived.
const SHORT_BODY_CODES: ReadonlySet<string> = new Set(['UND_ERR_SOCKET', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH']);

interface UrlSettings {
  maxBytes: number;
  timeoutMs: number;
  /** The whole download, from the first request to the last byte. */
  deadlineMs: number;
  maxRedirects: number;
  spoolDir: string;
  guard: Omit<GuardContext, 'label'>;
}

/** A 2xx answer, after redirects, whose headers passed every check. */
interface Fetched {
  label: string;
  fileName: string;
  /** Content-Length, when the answer has a trustworthy one. */
  declaredSize: number | undefined;
  body: Dispatcher.ResponseData['body'];
  agent: Agent;
}

/**
 * Downloads a URL for upload.
 * @throws SourceError `SOURCE_URL_INVALID`, `SOURCE_URL_BLOCKED`, `SOURCE_URL_HTTP_ERROR`,
 *   `SOURCE_URL_TIMEOUT`, `SOURCE_URL_TOO_MANY_REDIRECTS`, `SOURCE_URL_NETWORK`,
 *   `SOURCE_TOO_LARGE`, `SOURCE_FORBIDDEN_TYPE`, `SOURCE_SPOOL_FAILED`
 */
export async function openUrlSource(rawUrl: string, limits: SourceLimits): Promise<OpenedSource> {
  const settings = urlSettings(limits);
  const started = Date.now();
  const fetched = await fetchFollowingRedirects(rawUrl, settings);
  // A server that sends a byte now and then never trips the idle timeout: the whole download has a deadline too.
  const left = Math.max(0, settings.deadlineMs - (Date.now() - started));
  const deadline = setTimeout(() => {
    fetched.body.destroy(
      new SourceError(
        SourceErrorCode.URL_TIMEOUT,
        `${fetched.label}: the download did not finish within ${settings.deadlineMs} ms (ZOHO_ATTACH_URL_DEADLINE_MS)`,
      ),
    );
  }, left);
  deadline.unref();
  fetched.body.once('close', () => clearTimeout(deadline));
  return fetched.declaredSize === undefined
    ? spoolToTempFile(fetched, settings)
    : streamDirectly(fetched, fetched.declaredSize);
}

/**
 * Learns a URL's file name and size with every check {@link openUrlSource} runs. The body
 * is not read when the answer has a Content-Length; without one it has to be read (and
 * discarded) to be measured.
 */
export async function inspectUrlSource(rawUrl: string, limits: SourceLimits): Promise<SourceInfo> {
  const settings = urlSettings(limits);
  const fetched = await fetchFollowingRedirects(rawUrl, settings);
  try {
    if (fetched.declaredSize !== undefined) return { fileName: fetched.fileName, size: fetched.declaredSize };
    const counted = capped(fetched, settings.maxBytes);
    await pipeline(counted, new Writable({ write: (_chunk, _encoding, done) => done() }));
    return { fileName: fetched.fileName, size: counted.bytes };
  } finally {
    discard(fetched.body);
    await fetched.agent.destroy();
  }
}

function urlSettings(limits: SourceLimits): UrlSettings {
  const timeoutMs = limits.timeoutMs ?? SOURCE_DEFAULTS.timeoutMs;
  const maxBytes = limits.maxBytes ?? SOURCE_DEFAULTS.maxBytes;
  return {
    maxBytes,
    timeoutMs,
    deadlineMs: limits.deadlineMs ?? defaultUrlDeadlineMs(maxBytes),
    maxRedirects: limits.maxRedirects ?? SOURCE_DEFAULTS.maxRedirects,
    spoolDir: limits.spoolDir ?? os.tmpdir(),
    guard: {
      policy: addressPolicy(limits.allowPrivateUrls, limits.allowedAddresses),
      lookup: limits.lookup ?? systemLookup,
      timeoutMs,
    },
  };
}

async function fetchFollowingRedirects(rawUrl: string, settings: UrlSettings): Promise<Fetched> {
  let url = parseHttpUrl(rawUrl, describeText(rawUrl));
  let label = describeUrl(url);
  for (let redirects = 0; ; redirects++) {
    const address = await resolveAllowedAddress(url, { ...settings.guard, label });
    const agent = pinnedAgent(address, settings.timeoutMs);
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        dispatcher: agent,
        method: 'GET',
        headers: { 'accept-encoding': 'identity', accept: '*/*', 'user-agent': 'zoho-attach' },
      });
    } catch (error) {
      await agent.destroy();
      throw transportError(error, label, settings.timeoutMs);
    }

    const status = response.statusCode;
    if (status >= 200 && status < 300) {
      try {
        return { ...checkHeaders(response, url, label, settings.maxBytes), body: response.body, agent };
      } catch (error) {
        discard(response.body);
        await agent.destroy();
        throw error;
      }
    }

    discard(response.body);
    await agent.destroy();
    const location = firstHeader(response.headers, 'location');
    if (!REDIRECT_STATUSES.has(status) || location === undefined) {
      const transient = status >= 500 || TRANSIENT_CLIENT_STATUSES.has(status);
      throw new SourceError(SourceErrorCode.URL_HTTP_ERROR, `${label} answered HTTP ${status}`, {
        httpStatus: status,
        classification: transient ? 'transient' : 'permanent',
      });
    }
    if (redirects >= settings.maxRedirects) {
      throw new SourceError(
        SourceErrorCode.URL_TOO_MANY_REDIRECTS,
        `${describeText(rawUrl)} redirected more than ${settings.maxRedirects} times (last to ${describeText(location, url)})`,
      );
    }
    const from = describeUrl(url);
    url = parseHttpUrl(
      resolveLocation(location, url, from),
      `${describeText(location, url)} (redirected from ${from})`,
    );
    label = `${describeUrl(url)} (redirected from ${from})`;
  }
}

/**
 * An agent for one hop whose every connection goes to `address`, the address the guard
 * judged: a DNS answer that changed since (rebinding) is never asked for. Host header,
 * TLS SNI and certificate checks still use the URL's host name.
 */
function pinnedAgent(address: ResolvedAddress, timeoutMs: number): Agent {
  return new Agent({
    connect: {
      timeout: timeoutMs,
      lookup: (
        _hostname: string,
        options: LookupOptions,
        callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
      ) => {
        // Node asks for all addresses when it races IPv4 and IPv6 (autoSelectFamily).
        if (options.all === true) callback(null, [address]);
        else callback(null, address.address, address.family);
      },
    },
    headersTimeout: timeoutMs,
    // An idle timeout between pieces of the body; undici pauses it while the consumer
    // (the Zoho upload) applies backpressure.
    bodyTimeout: timeoutMs,
  });
}

function checkHeaders(
  response: Dispatcher.ResponseData,
  url: URL,
  label: string,
  maxBytes: number,
): Pick<Fetched, 'label' | 'fileName' | 'declaredSize'> {
  const suggested = fileNameFromContentDisposition(firstHeader(response.headers, 'content-disposition'));
  const fileName =
    (suggested === undefined ? undefined : cleanFileName(suggested)) ?? fileNameFromUrl(url) ?? 'download';
  if (isForbiddenFileName(fileName)) {
    throw new SourceError(
      SourceErrorCode.FORBIDDEN_TYPE,
      `${label} serves "${fileName}"; Zoho refuses .exe attachments`,
    );
  }
  const declaredSize = contentLength(response.headers);
  if (declaredSize !== undefined && declaredSize > maxBytes) {
    throw new SourceError(
      SourceErrorCode.TOO_LARGE,
      `${label} declares ${declaredSize} bytes; the limit is ${maxBytes}`,
    );
  }
  return { label, fileName, declaredSize };
}

function streamDirectly(fetched: Fetched, size: number): OpenedSource {
  const stream = hashSource(fetched.body, {
    expectedBytes: size,
    lengthError: (problem) =>
      new SourceError(
        SourceErrorCode.LENGTH_MISMATCH,
        `${fetched.label} declared ${size} bytes but sent ${problem.kind === 'longer' ? 'more' : problem.bytes}`,
      ),
    sourceError: (error, bytes) => bodyError(error, fetched.label, bytes, size),
  });
  return openedSource(fetched.fileName, size, stream, () => fetched.agent.destroy());
}

/**
 * Copies a body of unknown length to a temporary file (see {@link SpoolFile}), capped at
 * `maxBytes`, then serves the upload from that copy.
 */
async function spoolToTempFile(fetched: Fetched, settings: UrlSettings): Promise<OpenedSource> {
  const spool = new SpoolFile(path.join(settings.spoolDir, `zoho-attach-${randomUUID()}.part`));
  try {
    await pipeline(capped(fetched, settings.maxBytes), spool);
  } catch (error) {
    discard(fetched.body);
    await spool.close();
    throw error instanceof SourceError ? error : spoolError(error, fetched.label);
  } finally {
    await fetched.agent.destroy();
  }

  const size = spool.size;
  const stream = hashSource(spool.createReadStream(), {
    expectedBytes: size,
    lengthError: () =>
      new SourceError(SourceErrorCode.SPOOL_FAILED, `the temporary copy of ${fetched.label} changed size`),
    sourceError: (error) => spoolError(error, fetched.label),
  });
  return openedSource(fetched.fileName, size, stream, () => spool.close());
}

/** A download ready to stream, its hash read off the stream, closed once (the stream, then `release`). */
function openedSource(
  fileName: string,
  size: number,
  stream: HashingStream,
  release: () => Promise<void>,
): OpenedSource {
  return {
    fileName,
    size,
    stream,
    sha256: () => stream.digest(),
    close: once(async () => {
      stream.destroy();
      await release();
    }),
  };
}

/** The body through a counter that fails with SOURCE_TOO_LARGE past `maxBytes`. */
function capped(fetched: Fetched, maxBytes: number): HashingStream {
  return hashSource(fetched.body, {
    maxBytes,
    lengthError: () =>
      new SourceError(SourceErrorCode.TOO_LARGE, `${fetched.label} sent more than the limit of ${maxBytes} bytes`),
    sourceError: (error, bytes) => bodyError(error, fetched.label, bytes, undefined),
  });
}

function parseHttpUrl(raw: string, label: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (error) {
    throw new SourceError(SourceErrorCode.URL_INVALID, `${label} is not a valid URL`, { cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SourceError(
      SourceErrorCode.URL_INVALID,
      `${label}: only http and https URLs can be fetched, not ${url.protocol}`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    // They would be sent in clear to every host of a redirect chain and end up in logs.
    throw new SourceError(
      SourceErrorCode.URL_INVALID,
      `${label}: URLs with credentials (user:password@) are not supported`,
    );
  }
  return url;
}

function resolveLocation(location: string, base: URL, from: string): string {
  try {
    return new URL(location, base).href;
  } catch (error) {
    throw new SourceError(
      SourceErrorCode.URL_INVALID,
      `${from} redirected to an invalid URL ${describeText(location)}`,
      {
        cause: error,
      },
    );
  }
}

/** A URL for messages: no credentials, and the query (often a signed token) elided. */
function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search === '' ? '' : '?…'}`;
}

/** {@link describeUrl} for text that may not parse (a relative Location resolves against `base`). */
function describeText(raw: string, base?: URL): string {
  try {
    return describeUrl(new URL(raw, base));
  } catch {
    const withoutQuery = raw.replace(/\?.*$/s, '?…');
    return JSON.stringify(withoutQuery.length > 200 ? `${withoutQuery.slice(0, 200)}…` : withoutQuery);
  }
}

function fileNameFromUrl(url: URL): string | undefined {
  const segment = url.pathname.split('/').pop() ?? '';
  let decoded = segment;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    // A malformed escape: the raw segment is still a better name than none.
  }
  return cleanFileName(decoded);
}

function firstHeader(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The Content-Length, when it can be trusted to size the upload: present, one plain
 * number, and not overridden by a Transfer-Encoding.
 */
function contentLength(headers: Dispatcher.ResponseData['headers']): number | undefined {
  const value = headers['content-length'];
  if (typeof value !== 'string' || !/^\d+$/.test(value) || headers['transfer-encoding'] !== undefined) return undefined;
  const size = Number(value);
  return Number.isSafeInteger(size) ? size : undefined;
}

function transportError(error: unknown, label: string, timeoutMs: number): SourceError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (TIMEOUT_CODES.has(code)) {
    return new SourceError(SourceErrorCode.URL_TIMEOUT, `${label}: no answer within ${timeoutMs} ms (${code})`, {
      cause: error,
    });
  }
  return new SourceError(SourceErrorCode.URL_NETWORK, `${label}: ${code || (error as Error).message}`, {
    cause: error,
  });
}

function bodyError(error: Error, label: string, bytes: number, declared: number | undefined): SourceError {
  if (error instanceof SourceError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (TIMEOUT_CODES.has(code)) {
    return new SourceError(SourceErrorCode.URL_TIMEOUT, `${label}: the body stalled after ${bytes} bytes (${code})`, {
      cause: error,
    });
  }
  if (declared !== undefined && bytes < declared && SHORT_BODY_CODES.has(code)) {
    return new SourceError(
      SourceErrorCode.LENGTH_MISMATCH,
      `${label} declared ${declared} bytes but closed after ${bytes}`,
      {
        cause: error,
      },
    );
  }
  return new SourceError(
    SourceErrorCode.URL_NETWORK,
    `${label}: the body failed after ${bytes} bytes (${code || error.message})`,
    {
      cause: error,
    },
  );
}

function spoolError(error: unknown, label: string): SourceError {
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  return new SourceError(SourceErrorCode.SPOOL_FAILED, `the temporary copy of ${label} failed (${code})`, {
    cause: error,
  });
}

/** Drops a body we will not read; undici reports that as an abort, which nobody needs to hear. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

/** Wraps an async action so it runs once; later calls get the first call's promise. */
function once(action: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= action());
}
