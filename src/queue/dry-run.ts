/**
 * A dry run: every check `enqueue` makes of a row, plus the sources' own (a file exists, is
 * readable, under the roots, not too large, not refused; a URL passes the address guard and
 * answers), and nothing is enqueued.
 */
import type { RowRejection } from '../manifest/index.js';
import { isClassifiedError } from '../shared/errors.js';
import { inspectSource, type SourceLimits } from '../sources/index.js';
import type { ManifestEntry } from './enqueue.js';
import { targetOfFields } from './upload-job.js';

/** What a dry run found. */
export interface DryRunSummary {
  /** Rows read (valid and rejected). */
  rows: number;
  /** Rows that would be enqueued. */
  ok: number;
  /** Every rejected row, with its line, field and reason. */
  rejections: RowRejection[];
}

/** Checks every entry and its source; enqueues nothing. */
export async function dryRunEntries(entries: AsyncIterable<ManifestEntry> | Iterable<ManifestEntry>, limits: SourceLimits): Promise<DryRunSummary> {
  const summary: DryRunSummary = { rows: 0, ok: 0, rejections: [] };
  for await (const entry of entries) {
    summary.rows++;
    if (!entry.ok) {
      summary.rejections.push(entry.rejection);
      continue;
    }
    const target = targetOfFields(entry.row.file, entry.row.linkUrl);
    if (target.kind !== 'link') {
      try {
        await inspectSource(target.kind === 'file' ? { kind: 'file', path: target.path } : { kind: 'url', url: target.url }, limits);
      } catch (error) {
        if (!isClassifiedError(error)) throw error;
        summary.rejections.push({ line: entry.row.line, field: 'file', reason: error.message });
        continue;
      }
    }
    summary.ok++;
  }
  return summary;
}
