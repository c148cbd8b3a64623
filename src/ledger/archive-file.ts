/**
 * A batch's archive: its full report with each row's evidence, as gzipped JSON lines, so the
 * batch can leave Redis and still be reported, and its rows still recognised when a manifest is
 * enqueued again. The first line is a header, the last a trailer with the row count (a file cut
 * short has none), and every line between is one manifest line. Written and read as streams: a
 * million-row batch never sits in memory.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { ZohoAttachError } from '../shared/errors.js';
import type { BatchMeta } from './types.js';
import type { ReportRow } from './report.js';

/** The format's version, in the header: a reader refuses versions it does not know. */
const ARCHIVE_VERSION = 1;

/** The archive's first line. */
export interface ArchiveHeader {
  zohoAttachArchive: typeof ARCHIVE_VERSION;
  batch: string;
  archivedAt: string;
  /** The batch's counters when it was archived. */
  meta: BatchMeta;
  /** The pass-through columns, in manifest order. */
  columns: string[];
}

/** The archive's last line. */
interface ArchiveTrailer {
  zohoAttachArchiveEnd: true;
  rows: number;
}

/** One manifest line, archived. */
export interface ArchivedRow {
  row: ReportRow;
  /** The row's identity (what it uploads where); absent for a rejected row. */
  jobId?: string | undefined;
  /** What the ledger knew of its attempts: how it ended, when, what was sent. */
  evidence?:
    | {
        how?: string | undefined;
        bytes?: number | undefined;
        uploadedAt?: number | undefined;
        updatedAt?: number | undefined;
        firstAttemptAt?: number | undefined;
      }
    | undefined;
}

/** Writes an archive: the header, the rows as they come, the trailer. Refuses to overwrite a file. Returns how many rows. */
export async function writeArchive(
  path: string,
  header: Omit<ArchiveHeader, 'zohoAttachArchive'>,
  rows: AsyncIterable<ArchivedRow>,
): Promise<number> {
  let count = 0;
  async function* lines() {
    yield `${JSON.stringify({ zohoAttachArchive: ARCHIVE_VERSION, ...header } satisfies ArchiveHeader)}\n`;
    for await (const row of rows) {
      count++;
      yield `${JSON.stringify(row)}\n`;
    }
    yield `${JSON.stringify({ zohoAttachArchiveEnd: true, rows: count } satisfies ArchiveTrailer)}\n`;
  }
  await pipeline(Readable.from(lines()), createGzip(), createWriteStream(path, { flags: 'wx' }));
  return count;
}

/** An archive opened for reading: its header, and its rows as a stream. */
export interface OpenedArchive {
  header: ArchiveHeader;
  /** The rows; iterating to the end checks the trailer. @throws {ZohoAttachError} ARCHIVE_INVALID */
  rows: AsyncGenerator<ArchivedRow>;
}

/** Opens an archive. @throws {ZohoAttachError} ARCHIVE_INVALID naming the file and line */
export async function openArchive(path: string): Promise<OpenedArchive> {
  const lines = createInterface({ input: createReadStream(path).pipe(createGunzip()), crlfDelay: Infinity })[
    Symbol.asyncIterator
  ]();
  let number = 0;
  const next = async (): Promise<unknown> => {
    try {
      for (;;) {
        const result: IteratorResult<string> = await lines.next();
        if (result.done) return undefined;
        const value = result.value;
        number++;
        if (value !== '') return JSON.parse(value) as unknown;
      }
    } catch (error) {
      throw invalid(path, number, error instanceof Error ? error.message : 'unreadable');
    }
  };
  const header = await next();
  if (!isHeader(header)) throw invalid(path, number, 'the first line is not a zoho-attach archive header (version 1)');
  async function* rows(): AsyncGenerator<ArchivedRow> {
    let count = 0;
    for (;;) {
      const line = await next();
      if (line === undefined) throw invalid(path, number, 'the file ends without its trailer: it is cut short');
      if (isTrailer(line)) {
        if (line.rows !== count)
          throw invalid(path, number, `the trailer counts ${line.rows} rows, the file holds ${count}`);
        return;
      }
      count++;
      yield line as ArchivedRow;
    }
  }
  return { header, rows: rows() };
}

/** The identities of every row uploaded in these archives: rows to skip when a manifest is enqueued again. */
export async function archivedUploads(paths: readonly string[]): Promise<Map<string, string>> {
  const uploaded = new Map<string, string>();
  for (const path of paths) {
    const { rows } = await openArchive(path);
    for await (const archived of rows)
      if (archived.jobId !== undefined && archived.row.status === 'uploaded')
        uploaded.set(archived.jobId, archived.row.attachment_id);
  }
  return uploaded;
}

function isTrailer(value: unknown): value is ArchiveTrailer {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { zohoAttachArchiveEnd?: unknown }).zohoAttachArchiveEnd === true
  );
}

function isHeader(value: unknown): value is ArchiveHeader {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { zohoAttachArchive?: unknown }).zohoAttachArchive === ARCHIVE_VERSION
  );
}

function invalid(path: string, line: number, why: string): ZohoAttachError {
  return new ZohoAttachError('ARCHIVE_INVALID', `${path} line ${line}: ${why}`);
}
