/**
 * The library API for migration scripts: enqueue rows (or a manifest), await a batch,
 * and read its ledger — the mapping from each row to its Zoho attachment id.
 *
 * ```ts
 * import { ZohoAttach } from 'zoho-attach';
 * const za = await ZohoAttach.open();             // configuration from process.env
 * await za.enqueueRows([{ module: 'Accounts', record_id: '4150868000000224001', file: '/data/contract.pdf' }], { batch: 'accounts-2024' });
 * await za.waitForBatch('accounts-2024');          // workers (`zoho-attach worker`) do the uploads
 * for await (const row of za.report('accounts-2024')) console.log(row.record_id, row.attachment_id);
 * await za.close();
 * ```
 */
import path from 'node:path';
import { loadConfig, type Config } from './config/config.js';
import type { BatchMeta, ClaimMode } from './ledger/ledger.js';
import { reportRows, type ReportRow } from './ledger/report.js';
import { batchNameFor, readManifest, validateRow } from './manifest/index.js';
import { enqueueRows, type EnqueueSummary, type ManifestEntry } from './queue/enqueue.js';
import {
  exportDeadLetters,
  groupDeadLetters,
  purgeDeadLetters,
  retryDeadLetters,
  type DeadLetterFilter,
  type DeadLetterGroup,
} from './queue/dead-letters.js';
import { dryRunEntries, type DryRunSummary } from './queue/dry-run.js';
import type { RowCheckOptions } from './queue/row-checks.js';
import { readStatus, type StatusSnapshot } from './queue/status.js';
import { UploadQueue } from './queue/upload-queue.js';
import { sourceLimitsOf } from './sources/index.js';
import { archivedUploads, openArchive, type ArchiveHeader } from './ledger/archive-file.js';
import { archiveBatch, type ArchiveSummary } from './queue/archive.js';
import { planManifest as planManifestFile, type ManifestPlan } from './plan/plan-manifest.js';
import { ZohoAttachError } from './shared/errors.js';
import { checkBatch, type CheckOptions, type CheckResult } from './check/check-batch.js';
import { lazyRecordFinder, type RecordFinder } from './queue/record-lookup.js';
import { planUndo, undoBatch, type UndoOptions, type UndoPlan, type UndoResult } from './undo/undo-batch.js';

export { loadConfig, ConfigError, type Config } from './config/config.js';
export type { BatchMeta, ClaimMode, LedgerItem } from './ledger/ledger.js';
export type { ReportRow } from './ledger/report.js';
export type { ArchiveSummary } from './queue/archive.js';
export type { ManifestPlan } from './plan/plan-manifest.js';
export type { ArchiveHeader, ArchivedRow } from './ledger/archive-file.js';
export type { DeadLetter, DeadLetterFilter, DeadLetterGroup } from './queue/dead-letters.js';
export type { DryRunSummary } from './queue/dry-run.js';
export type { EnqueueSummary } from './queue/enqueue.js';
export type { StatusSnapshot } from './queue/status.js';
export { startUploadWorker, type UploadWorker, type UploadWorkerOptions } from './queue/upload-worker.js';
export { ClassifiedError, ZohoAttachError, type ErrorClassification } from './shared/errors.js';
export { ERROR_CODES, isKnownErrorCode, type ErrorCode, type ErrorCodeInfo } from './shared/error-codes.js';
export { createLogger, silentLogger, type Logger, type LogMethod } from './shared/logger.js';
export { ZohoClient, ZohoError } from './zoho/index.js';
export type { CheckedRow, CheckOptions, CheckPlan, CheckResult, CheckStatus } from './check/check-batch.js';
export type { UndoOptions, UndoPlan, UndoResult, UndoTarget } from './undo/undo-batch.js';

/** A row as a migration script gives it: the manifest's columns, plus any pass-through keys. */
export interface RowInput {
  module: string;
  /** The record's id; or name the record by one of its fields with `lookup_field` and `lookup_value`. */
  record_id?: string;
  /** A field's API name (e.g. `Legacy_Id`) whose value, `lookup_value`, finds the record (COQL at enqueue). */
  lookup_field?: string;
  lookup_value?: string;
  /** A local path (absolute, or relative to `baseDir`) or an http(s) URL. */
  file?: string;
  /** Attach this URL as a link instead of a file. */
  link_url?: string;
  title?: string;
  [passThrough: string]: string | undefined;
}

/** Options for {@link ZohoAttach.enqueueRows}. */
export interface EnqueueRowsOptions {
  batch: string;
  /**
   * Which rows the ledger knows that are queued again: `normal` (only purged dead letters),
   * `force` (dead letters too) or `reupload` (uploaded rows too: a second copy each, at a credit each).
   * @defaultValue 'normal'
   */
  mode?: ClaimMode;
  /** Relative `file` paths resolve against this folder. @defaultValue process.cwd() */
  baseDir?: string;
}

/** How rows are checked before they are queued: the same for enqueueing and for a dry run. */
export interface RowCheckChoices {
  /** Accept 0-byte files and downloads (refused by default). @defaultValue false */
  allowEmpty?: boolean;
  /**
   * Open each row's file or URL first, as a worker will. Turn off only where the files are
   * not visible from this machine: the workers still check. @defaultValue true
   */
  checkSources?: boolean;
}

/** Options for {@link ZohoAttach.waitForBatch}. */
export interface WaitOptions {
  /** @defaultValue 1000 */
  pollMs?: number;
  /** Give up (reject) after this long. @defaultValue no limit */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The producer side of zoho-attach, for scripts. `close()` when done. */
export class ZohoAttach {
  private constructor(private readonly uploadQueue: UploadQueue) {}

  private get config(): Config {
    return this.uploadQueue.config;
  }

  /** Connects with the given configuration (default: read from `process.env`). */
  static async open(config: Config = loadConfig(process.env)): Promise<ZohoAttach> {
    return new ZohoAttach(await UploadQueue.open(config));
  }

  /**
   * Validates and enqueues rows. Invalid rows are reported in the summary (with their index
   * as `line`, counting from 1) and kept out; valid ones are enqueued.
   */
  async enqueueRows(
    rows: Iterable<RowInput> | AsyncIterable<RowInput>,
    options: EnqueueRowsOptions & RowCheckChoices,
  ): Promise<EnqueueSummary> {
    return this.withLookup((lookup) =>
      enqueueRows(this.uploadQueue, validatedEntries(rows, options.baseDir ?? process.cwd()), {
        batch: options.batch,
        mode: options.mode ?? 'normal',
        checks: this.rowChecks(options),
        lookup,
      }),
    );
  }

  /** Enqueues a CSV/JSONL manifest, as `zoho-attach enqueue` does (`archives`: as its `--archive`). */
  async enqueueManifest(
    manifestPath: string,
    options: { batch?: string; mode?: ClaimMode; archives?: string[] } & RowCheckChoices = {},
  ): Promise<EnqueueSummary> {
    const absolute = path.resolve(manifestPath);
    const archived =
      options.archives === undefined
        ? undefined
        : await archivedUploads(options.archives.map((file) => path.resolve(file)));
    return this.withLookup((lookup) =>
      enqueueRows(this.uploadQueue, readManifest(absolute, { baseDir: path.dirname(absolute) }), {
        batch: options.batch ?? batchNameFor(absolute),
        mode: options.mode ?? 'normal',
        source: absolute,
        checks: this.rowChecks(options),
        lookup,
        ...(archived ? { archived } : {}),
      }),
    );
  }

  /**
   * Checks rows the way `enqueue` would, and their sources (files exist and may be read, URLs
   * answer), without enqueueing anything: `zoho-attach enqueue --dry-run`.
   */
  async dryRun(
    rows: Iterable<RowInput> | AsyncIterable<RowInput> | string,
    options: { baseDir?: string } & RowCheckChoices = {},
  ): Promise<DryRunSummary> {
    if (typeof rows === 'string') {
      const absolute = path.resolve(rows);
      return dryRunEntries(readManifest(absolute, { baseDir: path.dirname(absolute) }), this.rowChecks(options));
    }
    return dryRunEntries(validatedEntries(rows, options.baseDir ?? process.cwd()), this.rowChecks(options));
  }

  private rowChecks(choices: RowCheckChoices): RowCheckOptions {
    return {
      sources:
        choices.checkSources === false
          ? false
          : { limits: sourceLimitsOf(this.config.sources), allowEmpty: choices.allowEmpty ?? false },
    };
  }

  /** Dead letters grouped by code and message signature, largest first (`zoho-attach dlq list`). */
  deadLetters(filter: DeadLetterFilter = {}): Promise<DeadLetterGroup[]> {
    return groupDeadLetters(this.uploadQueue, filter);
  }

  /** Puts dead letters back in the queue with fresh attempts (`dlq retry`); returns how many. */
  retryDeadLetters(filter: DeadLetterFilter = {}): Promise<number> {
    return retryDeadLetters(this.uploadQueue, filter);
  }

  /** Removes dead letters from the queue (`dlq purge`); enqueueing their rows again queues them. Returns how many. */
  purgeDeadLetters(filter: DeadLetterFilter = {}): Promise<number> {
    return purgeDeadLetters(this.uploadQueue, filter);
  }

  /** Writes dead letters as a CSV manifest to `out` (`dlq export`); returns how many rows. */
  exportDeadLetters(out: NodeJS.WritableStream, filter: DeadLetterFilter = {}): Promise<number> {
    return exportDeadLetters(this.uploadQueue, filter, out);
  }

  /** Stops every worker from taking jobs (`zoho-attach pause`). */
  pause(): Promise<void> {
    return this.uploadQueue.pauseControl.pauseByOperator();
  }

  /** Lets workers go on, also after a systemic error paused the queue (`zoho-attach resume`). */
  resume(): Promise<void> {
    return this.uploadQueue.pauseControl.resume();
  }

  /** A batch's counters, or undefined if there is no such batch. */
  batch(name: string): Promise<BatchMeta | undefined> {
    return this.uploadQueue.ledger.getBatch(name);
  }

  /** The queue and batches at this moment. */
  status(batch?: string): Promise<StatusSnapshot> {
    return readStatus(this.uploadQueue, batch);
  }

  /** The batch's ledger, one row per manifest row, in order. */
  report(batch: string): AsyncGenerator<ReportRow> {
    return reportRows(this.uploadQueue.ledger, batch);
  }

  /**
   * Moves a finished batch out of Redis into a checked archive file (`zoho-attach archive`).
   * Read it back with {@link readArchivedReport}; pass it to `enqueueManifest`'s `archives` so its
   * uploaded rows are not uploaded again.
   */
  archive(batch: string, outPath: string): Promise<ArchiveSummary> {
    return archiveBatch(this.uploadQueue, batch, path.resolve(outPath));
  }
  /**
   * Compares a batch's ledger with what Zoho holds, as `zoho-attach check` does: every row `ok`,
   * `missing`, `extra`, `mismatch` (with `deep`), `unchecked`, `dead` or `pending`. `repair`
   * queues the missing rows again. Calls Zoho with the configured credentials.
   */
  async check(batch: string, options: Omit<CheckOptions, 'batch'> = {}): Promise<CheckResult> {
    const client = this.uploadQueue.zohoClient();
    try {
      return await checkBatch(this.uploadQueue, client, {
        ...options,
        batch,
      });
    } finally {
      await client.close();
    }
  }

  /** Runs `use` with a record finder for rows that name their record by a field (a Zoho client opened only if needed). */
  private async withLookup<T>(use: (lookup: RecordFinder) => Promise<T>): Promise<T> {
    const lookup = lazyRecordFinder(() => this.uploadQueue.zohoClient());
    try {
      return await use(lookup);
    } finally {
      await lookup.close();
    }
  }

  /**
   * What undoing a batch would delete (`zoho-attach undo --dry-run`): exactly the attachments of the
   * rows it owns and uploaded. The batch must be finished.
   */
  planUndo(batch: string): Promise<UndoPlan> {
    return planUndo(this.uploadQueue, batch);
  }

  /**
   * Deletes exactly the attachments the batch created and marks each row `undone`
   * (`zoho-attach undo --yes`: the library does not ask). Resumable: run it again after an interruption.
   */
  async undo(batch: string, options: UndoOptions = {}): Promise<UndoResult> {
    const plan = await planUndo(this.uploadQueue, batch);
    const client = this.uploadQueue.zohoClient();
    try {
      return await undoBatch(this.uploadQueue, client, plan, options);
    } finally {
      await client.close();
    }
  }

  /** Resolves with the batch's counters once none of its rows is pending (each uploaded or dead). */
  async waitForBatch(name: string, options: WaitOptions = {}): Promise<BatchMeta> {
    const started = Date.now();
    for (;;) {
      options.signal?.throwIfAborted();
      const meta = await this.uploadQueue.ledger.getBatch(name);
      if (!meta) throw new ZohoAttachError('NO_SUCH_BATCH', `no batch named "${name}"`);
      if (meta.pending === 0) return meta;
      if (options.timeoutMs !== undefined && Date.now() - started > options.timeoutMs) {
        throw new ZohoAttachError(
          'WAIT_TIMEOUT',
          `batch "${name}" still has ${meta.pending} pending row(s) after ${options.timeoutMs} ms`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1_000));
    }
  }

  /** Closes the connection. Idempotent. */
  close(): Promise<void> {
    return this.uploadQueue.close();
  }
}

/** Rows as a script gives them, validated like manifest rows (numbered from 1 as their `line`). */
async function* validatedEntries(
  rows: Iterable<RowInput> | AsyncIterable<RowInput>,
  baseDir: string,
): AsyncGenerator<ManifestEntry> {
  let line = 0;
  for await (const row of rows) yield validateRow(row, ++line, baseDir);
}

/** An archived batch's header and report rows, read from its file (no Redis needed). */
export async function readArchivedReport(
  archivePath: string,
): Promise<{ header: ArchiveHeader; rows: AsyncGenerator<ReportRow> }> {
  const { header, rows } = await openArchive(path.resolve(archivePath));
  async function* reportOnly(): AsyncGenerator<ReportRow> {
    for await (const archived of rows) yield archived.row;
  }
  return { header, rows: reportOnly() };
}

/**
 * What a manifest will cost before it is enqueued (`zoho-attach plan`): rows, bytes, API credits,
 * time, and days of the org's credits. Calls neither Zoho nor Redis.
 */
export function planManifest(
  manifestPath: string,
  options: { config?: Config; latencyMs?: number } = {},
): Promise<ManifestPlan> {
  const absolute = path.resolve(manifestPath);
  return planManifestFile(
    absolute,
    path.dirname(absolute),
    options.config ?? loadConfig(process.env),
    options.latencyMs ?? 500,
  );
}
