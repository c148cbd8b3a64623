/**
 * How a batch row is written in Redis: a JSON array in a fixed order, without field names (a
 * million rows would otherwise store the names a million times). Rows written by versions
 * before this one are JSON objects, and are still read.
 */
import type { StoredRow } from './types.js';

type EncodedRow = [
  jobId: string,
  module: string,
  recordId: string,
  file: string,
  linkUrl: string,
  title: string,
  extra?: Record<string, string>,
];

/** The row as stored; the job id comes first, where backlog.ts's script reads it. */
export function encodeStoredRow(row: StoredRow): string {
  return `[${storedRowColumns(row).join(',')}]`;
}

/**
 * The stored row's elements, each as its JSON (the row is `[` these joined by commas `]`): the
 * form row pages take them in, to share each column's common prefix (see row-pages.ts).
 */
export function storedRowColumns(row: StoredRow): string[] {
  const encoded: EncodedRow = [row.jobId, row.module, row.record_id, row.file, row.link_url, row.title];
  if (Object.keys(row.extra).length > 0) encoded.push(row.extra);
  return encoded.map((value) => JSON.stringify(value));
}

/** Reads a stored row (either form). */
export function decodeStoredRow(raw: string): StoredRow {
  const parsed = JSON.parse(raw) as EncodedRow | StoredRow;
  if (!Array.isArray(parsed)) return parsed;
  const [jobId, module, recordId, file, linkUrl, title, extra] = parsed;
  return { jobId, module, record_id: recordId, file, link_url: linkUrl, title, extra: extra ?? {} };
}
