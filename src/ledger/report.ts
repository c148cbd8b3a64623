/**
 * The per-batch report: one row per manifest row with its outcome and attachment id,
 * which the migration uses as its mapping. Streamed, so a million-row batch never sits
 * in memory.
 */
import { csvLine } from '../report/csv.js';
import type { Ledger, LedgerRowEntry } from './ledger.js';

/** The report's fixed columns, in order; pass-through columns follow them. */
export const REPORT_COLUMNS = [
  'line',
  'module',
  'record_id',
  'file',
  'link_url',
  'title',
  'status',
  'attachment_id',
  'error_code',
  'error_message',
  'attempts',
  'sha256',
  'copies_removed',
] as const;

/** One report row. `status` is `uploaded`, `dead`, `pending`, `undone` (deleted by undo), or `rejected` (invalid at enqueue). */
export type ReportRow = Record<(typeof REPORT_COLUMNS)[number], string> & { extra: Record<string, string> };

/** Report output formats. */
export type ReportFormat = 'csv' | 'jsonl';

/** Code given to rows the manifest reader rejected (a row whose source was refused at enqueue has the source's code). */
export const REJECTED_ROW_CODE = 'INVALID_ROW';

/** A batch's report rows, in manifest order. */
export async function* reportRows(ledger: Ledger, batch: string): AsyncGenerator<ReportRow> {
  for await (const entry of ledger.readRows(batch)) yield reportRowOf(entry);
}

/** One entry of {@link Ledger.readRows} as a report row. */
export function reportRowOf(entry: LedgerRowEntry): ReportRow {
  if ('rejection' in entry) {
    const { rejection } = entry;
    // The row as it was written, so the report shows what to fix.
    const written = rejection.fields ?? {};
    return {
      line: String(entry.line),
      module: written.module ?? '',
      record_id: written.record_id ?? '',
      file: written.file ?? '',
      link_url: written.link_url ?? '',
      title: written.title ?? '',
      status: 'rejected',
      attachment_id: '',
      error_code: rejection.code ?? REJECTED_ROW_CODE,
      error_message: rejection.field ? `${rejection.field}: ${rejection.reason}` : rejection.reason,
      attempts: '0',
      sha256: '',
      copies_removed: '0',
      extra: rejection.extra ?? {},
    };
  }
  const { row, item } = entry;
  return {
    line: String(entry.line),
    module: row.module,
    record_id: row.record_id,
    file: row.file,
    link_url: row.link_url,
    title: row.title,
    status: item?.status ?? 'pending',
    attachment_id: item?.attachmentId ?? '',
    error_code: item?.status === 'uploaded' ? '' : (item?.errorCode ?? ''),
    error_message: item?.status === 'uploaded' ? '' : (item?.errorMessage ?? ''),
    attempts: String(item?.attempts ?? 0),
    sha256: item?.sha256 ?? '',
    // Extra copies of this row that settle-and-verify deleted (Zoho stored a timed-out POST late).
    copies_removed: String(item?.copiesRemoved ?? 0),
    extra: row.extra,
  };
}

/** Writes a batch's report as CSV or JSON lines to `out`; returns the number of rows. */
export async function writeReport(
  ledger: Ledger,
  batch: string,
  format: ReportFormat,
  out: NodeJS.WritableStream,
): Promise<number> {
  return writeReportRows(reportRows(ledger, batch), await ledger.extraColumns(batch), format, out);
}

/** Writes report rows (from Redis, or from an archive file) as CSV or JSON lines; returns how many. */
export async function writeReportRows(
  rows: AsyncIterable<ReportRow> | Iterable<ReportRow>,
  extraColumns: readonly string[],
  format: ReportFormat,
  out: NodeJS.WritableStream,
): Promise<number> {
  const write = (text: string) =>
    new Promise<void>((resolve, reject) => {
      if (out.write(text)) resolve();
      else {
        out.once('drain', resolve);
        out.once('error', reject);
      }
    });
  if (format === 'csv') await write(csvLine([...REPORT_COLUMNS, ...extraColumns]));
  let count = 0;
  for await (const row of rows) {
    const values = [...REPORT_COLUMNS.map((c) => row[c]), ...extraColumns.map((c) => row.extra[c] ?? '')];
    if (format === 'csv') await write(csvLine(values));
    else {
      const record: Record<string, string> = {};
      [...REPORT_COLUMNS, ...extraColumns].forEach((column, i) => (record[column] = values[i] as string));
      await write(`${JSON.stringify(record)}\n`);
    }
    count++;
  }
  return count;
}
