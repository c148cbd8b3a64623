/**
 * A dry run: the rows go through exactly the checks `enqueue` runs ({@link checkRows}), and
 * nothing is enqueued.
 */
import type { RowRejection } from '../manifest/index.js';
import type { ManifestEntry } from './enqueue.js';
import { checkRows, type RowCheckOptions } from './row-checks.js';

/** What a dry run found. */
export interface DryRunSummary {
  /** Rows read (valid and rejected). */
  rows: number;
  /** Rows that would be enqueued. */
  ok: number;
  /** Every rejected row, with its line, field and reason. */
  rejections: RowRejection[];
  /** Columns that look like misspelt fields ("did you mean title?"). */
  warnings: string[];
}

/** Checks every entry and its source; enqueues nothing. */
export async function dryRunEntries(
  entries: AsyncIterable<ManifestEntry> | Iterable<ManifestEntry>,
  checks: RowCheckOptions,
): Promise<DryRunSummary> {
  const summary: DryRunSummary = { rows: 0, ok: 0, rejections: [], warnings: [] };
  for await (const entry of checkRows(entries, checks, summary.warnings)) {
    summary.rows++;
    if (entry.ok) summary.ok++;
    else summary.rejections.push(entry.rejection);
  }
  return summary;
}
