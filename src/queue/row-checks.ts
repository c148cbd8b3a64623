/**
 * The one validation path of `enqueue` and `enqueue --dry-run`: the manifest reader's checks
 * of each row, then the checks of its source that a worker would meet (the file exists, is
 * readable, under the roots, not too large, not refused, not empty; a URL passes the address
 * guard and answers), and a warning for a column that looks like a misspelt field. The dry
 * run counts what comes out; enqueue writes it. Neither can accept a row the other refuses.
 */
import { likelyMisspelledField, type ManifestRow, type ManifestRowResult } from '../manifest/index.js';
import { isClassifiedError } from '../shared/errors.js';
import { inspectSource, SourceError, SourceErrorCode, type SourceLimits } from '../sources/index.js';
import { targetOfFields } from './upload-job.js';

/** How rows are checked on their way into the queue. */
export interface RowCheckOptions {
  /**
   * Check each row's file or URL as a worker will open it, or `false` to skip these checks
   * (when the files are not visible from the machine that enqueues: the workers still check).
   */
  sources: SourceCheckOptions | false;
  /** Called once per warning, when it is found (the summaries list them too). */
  onWarning?: ((warning: string) => void) | undefined;
}

/** Options of the source checks. */
export interface SourceCheckOptions {
  limits: SourceLimits;
  /**
   * Accept 0-byte files and downloads. Off by default: an empty attachment is almost always a
   * failed export or a truncated copy, and Zoho would store it without complaint.
   * @defaultValue false
   */
  allowEmpty?: boolean | undefined;
  /**
   * Sources inspected at once; rows still come out in manifest order.
   * @defaultValue 16
   */
  concurrency?: number | undefined;
}

const DEFAULT_CONCURRENCY = 16;

/**
 * Runs every check on `entries`, yielding them in order: a row whose source fails is turned
 * into a rejection naming the row's `file` field and the reason. Warnings are pushed onto
 * `warnings` (and passed to `onWarning`).
 */
export async function* checkRows(
  entries: AsyncIterable<ManifestRowResult> | Iterable<ManifestRowResult>,
  options: RowCheckOptions,
  warnings: string[],
): AsyncGenerator<ManifestRowResult> {
  const warnColumns = columnWarner(options, warnings);
  const { sources } = options;
  const concurrency = sources ? Math.max(1, sources.concurrency ?? DEFAULT_CONCURRENCY) : 1;
  // Inspections under way, oldest first: up to `concurrency` run while the oldest is awaited.
  const window: Array<Promise<ManifestRowResult>> = [];
  for await (const entry of entries) {
    warnColumns(entry.ok ? entry.row.extra : (entry.rejection.raw ?? {}));
    if (!sources || !entry.ok) {
      window.push(Promise.resolve(entry));
    } else {
      const checked = checkSource(entry.row, sources);
      // Awaited in turn below; until then a failure must not count as unhandled.
      checked.catch(() => undefined);
      window.push(checked);
    }
    if (window.length >= concurrency) yield await (window.shift() as Promise<ManifestRowResult>);
  }
  while (window.length > 0) yield await (window.shift() as Promise<ManifestRowResult>);
}

/** The row, or its rejection when its source would fail the worker. */
async function checkSource(row: ManifestRow, options: SourceCheckOptions): Promise<ManifestRowResult> {
  const target = targetOfFields(row.file, row.linkUrl);
  if (target.kind === 'link') return { ok: true, row };
  const raw = writtenRow(row);
  try {
    const info = await inspectSource(
      target.kind === 'file' ? { kind: 'file', path: target.path } : { kind: 'url', url: target.url },
      options.limits,
    );
    if (info.size === 0 && !options.allowEmpty) {
      const what = target.kind === 'file' ? target.path : 'the download';
      throw new SourceError(
        SourceErrorCode.EMPTY,
        `${what} is empty (0 bytes): Zoho would store an empty attachment. Fix the source, or enqueue with --allow-empty if empty files are meant`,
      );
    }
    return { ok: true, row };
  } catch (error) {
    if (!isClassifiedError(error)) throw error;
    return { ok: false, rejection: { line: row.line, field: 'file', reason: error.message, code: error.code, raw } };
  }
}

/** A valid row's fields, as a rejection keeps them for the report. */
function writtenRow(row: ManifestRow): Record<string, string> {
  return {
    module: row.module,
    record_id: row.recordId,
    ...(row.file === undefined ? {} : { file: row.file }),
    ...(row.linkUrl === undefined ? {} : { link_url: row.linkUrl }),
    ...(row.title === undefined ? {} : { title: row.title }),
    ...row.extra,
  };
}

/** Warns once per pass-through column whose name is one edit or two from a field's. */
function columnWarner(options: RowCheckOptions, warnings: string[]): (columns: Record<string, string>) => void {
  const seen = new Set<string>();
  return (columns) => {
    for (const name in columns) {
      if (seen.has(name)) continue;
      seen.add(name);
      const field = likelyMisspelledField(name);
      if (field === undefined) continue;
      const warning = `column "${name}" is not a manifest field, so it is passed through as it is: did you mean ${field}?`;
      warnings.push(warning);
      options.onWarning?.(warning);
    }
  };
}
