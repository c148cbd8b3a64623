/**
 * Every CSV the tool writes (the report, dead-letter exports, the dashboard's export) goes
 * through here: csv-stringify for the quoting, and every cell spreadsheet-safe
 * (shared/spreadsheet-guard.ts). JSON lines are never guarded.
 */
import { stringify } from 'csv-stringify/sync';
import { guardCell } from '../shared/spreadsheet-guard.js';

/** One CSV record (CRLF-terminated), every cell guarded. */
export function csvLine(values: readonly string[]): string {
  // A lone CR or LF inside a cell must be quoted too, not only the CRLF that ends a record.
  return stringify([values.map(guardCell)], { record_delimiter: '\r\n', quoted_match: /[\r\n]/ });
}
