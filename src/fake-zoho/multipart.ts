/**
 * A streaming multipart/form-data parser (RFC 7578 over RFC 2046 §5.1). It holds at most
 * one chunk plus a boundary's length in memory: part bodies are handed to a sink as they
 * arrive, and the body is read only as fast as the sinks accept it.
 */
import type { Readable } from 'node:stream';
import { extendedParameter, parseHeaderValue } from '../shared/content-disposition.js';

/** What a part's headers say about it. */
export interface PartInfo {
  /** The form field name (`name` in Content-Disposition). */
  name: string | undefined;
  /** The file name (`filename*` preferred over `filename`); undefined for a plain field. */
  fileName: string | undefined;
  contentType: string | undefined;
}

/** Receives one part's body. A sink may throw (or reject) to stop the parse. */
export interface PartSink {
  write(chunk: Buffer): void | Promise<void>;
  end(): void | Promise<void>;
}

/** The body is not well-formed multipart. */
export class MultipartError extends Error {
  override readonly name = 'MultipartError';
}

/** Largest header block of one part; real ones are a few hundred bytes. */
const MAX_PART_HEADER_BYTES = 16 * 1024;
/** RFC 2046 §5.1.1: a boundary is 1 to 70 characters. */
const MAX_BOUNDARY_LENGTH = 70;
const HEADER_BLOCK_END = Buffer.from('\r\n\r\n');
const HYPHEN = 0x2d;
const CR = 0x0d;
const LF = 0x0a;
const EMPTY = Buffer.alloc(0);

/** Where the parser is: before the first part, after a boundary, in a header block, in a body, after the last part. */
type ParserState = 'preamble' | 'delimiter' | 'headers' | 'body' | 'epilogue';

/** The boundary of a `multipart/form-data` Content-Type, or undefined when it is not one. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const parsed = parseHeaderValue(contentType);
  if (parsed.value !== 'multipart/form-data') return undefined;
  const boundary = parsed.params.get('boundary');
  if (boundary === undefined || boundary.length === 0 || boundary.length > MAX_BOUNDARY_LENGTH) {
    throw new MultipartError('the Content-Type has no valid boundary');
  }
  return boundary;
}

/**
 * Reads `body` to its end, calling `onPart` at each part's headers and feeding that part's
 * bytes to the sink it returns. Resolves when the closing boundary was seen and the body ended.
 * The body is not destroyed when the parse stops early, so the caller can still answer on
 * the same connection and discard the rest.
 */
export async function parseMultipart(
  body: Readable,
  boundary: string,
  onPart: (part: PartInfo) => PartSink | Promise<PartSink>,
): Promise<void> {
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  // The first delimiter has no leading CRLF; a virtual one lets one search find them all.
  let pending: Buffer = Buffer.from('\r\n');
  // Asserted, not annotated: `advance` changes it, which the compiler's narrowing cannot see.
  let state = 'preamble' as ParserState;
  let sink: PartSink | undefined;

  /** Consumes as much of `pending` as can be decided without more bytes. */
  async function advance(): Promise<void> {
    for (;;) {
      switch (state) {
        case 'preamble': {
          const at = pending.indexOf(delimiter);
          if (at === -1) {
            pending = pending.subarray(Math.max(0, pending.length - (delimiter.length - 1)));
            return;
          }
          pending = pending.subarray(at + delimiter.length);
          state = 'delimiter';
          break;
        }
        case 'delimiter': {
          if (pending.length < 2) return;
          if (pending[0] === HYPHEN && pending[1] === HYPHEN) {
            state = 'epilogue';
            break;
          }
          // RFC 2046 allows blanks ("transport padding") between a boundary and its CRLF.
          let blanks = 0;
          while (blanks < pending.length && (pending[blanks] === 0x20 || pending[blanks] === 0x09)) blanks += 1;
          if (pending.length < blanks + 2) return;
          if (pending[blanks] !== CR || pending[blanks + 1] !== LF) {
            throw new MultipartError('a boundary line is not followed by CRLF');
          }
          // Keep the CRLF: then a part without headers ends its header block at index 0.
          pending = pending.subarray(blanks);
          state = 'headers';
          break;
        }
        case 'headers': {
          const end = pending.indexOf(HEADER_BLOCK_END);
          if (end === -1) {
            if (pending.length > MAX_PART_HEADER_BYTES) throw new MultipartError('a part header block is too large');
            return;
          }
          const part = parsePartHeaders(pending.subarray(2, end).toString('utf8'));
          pending = pending.subarray(end + HEADER_BLOCK_END.length);
          sink = await onPart(part);
          state = 'body';
          break;
        }
        case 'body': {
          const at = pending.indexOf(delimiter);
          if (at === -1) {
            // The tail may be the start of a delimiter split across chunks: keep it back.
            const safe = pending.length - (delimiter.length - 1);
            if (safe > 0) {
              await sink!.write(pending.subarray(0, safe));
              pending = pending.subarray(safe);
            }
            return;
          }
          if (at > 0) await sink!.write(pending.subarray(0, at));
          await sink!.end();
          sink = undefined;
          pending = pending.subarray(at + delimiter.length);
          state = 'delimiter';
          break;
        }
        case 'epilogue':
          pending = EMPTY;
          return;
      }
    }
  }

  for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    await advance();
  }
  if (state !== 'epilogue') throw new MultipartError('the body ended before its closing boundary');
}

/** Reads Content-Disposition and Content-Type out of one part's header block. */
function parsePartHeaders(block: string): PartInfo {
  let disposition: string | undefined;
  let contentType: string | undefined;
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-disposition') disposition = value;
    else if (name === 'content-type') contentType = value;
  }
  if (disposition === undefined) return { name: undefined, fileName: undefined, contentType };
  const { params } = parseHeaderValue(disposition);
  return { name: params.get('name'), fileName: extendedParameter(params, 'filename'), contentType };
}
