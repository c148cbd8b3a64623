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
import { readManifest, validateRow } from './manifest/index.js';
import { batchNameFor, enqueueRows, type EnqueueSummary, type ManifestEntry } from './queue/enqueue.js';
import { readStatus, type StatusSnapshot } from './queue/status.js';
import { UploadQueue } from './queue/upload-queue.js';

export { loadConfig, ConfigError, type Config } from './config/config.js';
export type { BatchMeta, ClaimMode, LedgerItem } from './ledger/ledger.js';
export type { ReportRow } from './ledger/report.js';
export type { EnqueueSummary } from './queue/enqueue.js';
export type { StatusSnapshot } from './queue/status.js';
export { startUploadWorker, type UploadWorker, type UploadWorkerOptions } from './queue/upload-worker.js';
export { ClassifiedError, type ErrorClassification } from './shared/errors.js';
export { ZohoClient, ZohoError } from './zoho/index.js';

/** A row as a migration script gives it: the manifest's columns, plus any pass-through keys. */
export interface RowInput {
  module: string;
  record_id: string;
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

  /** Connects with the given configuration (default: read from `process.env`). */
  static async open(config: Config = loadConfig(process.env)): Promise<ZohoAttach> {
    return new ZohoAttach(await UploadQueue.open(config));
  }

  /**
   * Validates and enqueues rows. Invalid rows are reported in the summary (with their index
   * as `line`, counting from 1) and kept out; valid ones are enqueued.
   */
  async enqueueRows(rows: Iterable<RowInput> | AsyncIterable<RowInput>, options: EnqueueRowsOptions): Promise<EnqueueSummary> {
    const baseDir = options.baseDir ?? process.cwd();
    async function* entries(): AsyncGenerator<ManifestEntry> {
      let line = 0;
      for await (const row of rows) yield validateRow(row as Record<string, unknown>, ++line, baseDir);
    }
    return enqueueRows(this.uploadQueue, entries(), { batch: options.batch, mode: options.mode ?? 'normal' });
  }

  /** Enqueues a CSV/JSONL manifest, as `zoho-attach enqueue` does. */
  async enqueueManifest(manifestPath: string, options: { batch?: string; mode?: ClaimMode } = {}): Promise<EnqueueSummary> {
    const absolute = path.resolve(manifestPath);
    return enqueueRows(this.uploadQueue, readManifest(absolute, { baseDir: path.dirname(absolute) }), {
      batch: options.batch ?? batchNameFor(absolute),
      mode: options.mode ?? 'normal',
      source: absolute,
    });
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

  /** Resolves with the batch's counters once none of its rows is pending (each uploaded or dead). */
  async waitForBatch(name: string, options: WaitOptions = {}): Promise<BatchMeta> {
    const started = Date.now();
    for (;;) {
      options.signal?.throwIfAborted();
      const meta = await this.uploadQueue.ledger.getBatch(name);
      if (!meta) throw new Error(`[NO_SUCH_BATCH] no batch named "${name}"`);
      if (meta.pending === 0) return meta;
      if (options.timeoutMs !== undefined && Date.now() - started > options.timeoutMs) {
        throw new Error(`[WAIT_TIMEOUT] batch "${name}" still has ${meta.pending} pending row(s) after ${options.timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1_000));
    }
  }

  /** Closes the connection. Idempotent. */
  close(): Promise<void> {
    return this.uploadQueue.close();
  }
}
