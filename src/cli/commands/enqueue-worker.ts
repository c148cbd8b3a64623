/**
 * The enqueue itself, run on a worker thread by `zoho-attach enqueue` (see enqueue.ts): the
 * thread's heap has limits of its own (`resourceLimits`), which keep the garbage of a million
 * rows from piling up in a large heap, without touching any other command's heap (the worker's
 * uploads among them). The command's thread keeps the terminal: this one sends it warnings,
 * progress and the summary as messages.
 */
import path from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { loadConfig } from '../../config/config.js';
import { archivedUploads } from '../../ledger/archive-file.js';
import type { ClaimMode } from '../../ledger/ledger.js';
import { readManifest } from '../../manifest/index.js';
import { enqueueRows, type EnqueueSummary } from '../../queue/enqueue.js';
import { lazyRecordFinder } from '../../queue/record-lookup.js';
import type { RowCheckOptions } from '../../queue/row-checks.js';
import { UploadQueue } from '../../queue/upload-queue.js';
import { safeErrorMessage } from '../../shared/redact.js';
import { sourceLimitsOf } from '../../sources/index.js';

/** What the command hands the thread (`workerData`). */
export interface EnqueueJob {
  env: Record<string, string | undefined>;
  cwd: string;
  /** Absolute. */
  manifestPath: string;
  batch: string;
  mode: ClaimMode;
  skipSourceChecks: boolean;
  allowEmpty: boolean;
  /** Absolute paths of `--archive` files. */
  archives: string[] | undefined;
}

/** What the thread tells the command. */
export type EnqueueThreadMessage =
  | { kind: 'warning'; text: string }
  | { kind: 'progress'; rows: number; enqueued: number; skipped: number; rejected: number }
  | { kind: 'done'; summary: EnqueueSummary }
  | { kind: 'failed'; name: string; code: string | undefined; message: string };

/** What the command tells the thread: stop reading (the first Ctrl-C or SIGTERM). */
export type EnqueueCommandMessage = { kind: 'stop'; signal: string };

async function runEnqueueJob(job: EnqueueJob, post: (message: EnqueueThreadMessage) => void): Promise<void> {
  const stop = new AbortController();
  parentPort?.on('message', (message: EnqueueCommandMessage) => {
    if (message.kind === 'stop') stop.abort(message.signal);
  });
  const config = loadConfig(job.env, job.cwd);
  const checks: RowCheckOptions = {
    sources: job.skipSourceChecks ? false : { limits: sourceLimitsOf(config.sources), allowEmpty: job.allowEmpty },
    onWarning: (text) => post({ kind: 'warning', text }),
  };
  const archived = job.archives === undefined ? undefined : await archivedUploads(job.archives);
  const entries = readManifest(job.manifestPath, { baseDir: path.dirname(job.manifestPath) });
  const uploadQueue = await UploadQueue.open(config);
  // Zoho is called only for rows that name their record by a field.
  const lookup = lazyRecordFinder(() => uploadQueue.zohoClient());
  let summary: EnqueueSummary;
  try {
    summary = await enqueueRows(uploadQueue, entries, {
      batch: job.batch,
      lookup,
      ...(archived ? { archived } : {}),
      mode: job.mode,
      source: job.manifestPath,
      checks,
      signal: stop.signal,
      onProgress: ({ rows, enqueued, skipped, rejected }) =>
        post({ kind: 'progress', rows, enqueued, skipped, rejected }),
    });
  } finally {
    await lookup.close();
    await uploadQueue.close();
  }
  // Last, once every connection is closed: the command's thread then ends this one (a timer a
  // connection left behind must not keep it alive).
  post({ kind: 'done', summary });
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const post = (message: EnqueueThreadMessage) => port.postMessage(message);
  void runEnqueueJob(workerData as EnqueueJob, post).catch((error: unknown) => {
    // Only the message crosses the thread (the command prints nothing else of a failure).
    const { name, code } = error as { name?: unknown; code?: unknown };
    post({
      kind: 'failed',
      name: typeof name === 'string' ? name : 'Error',
      code: typeof code === 'string' ? code : undefined,
      message: safeErrorMessage(error),
    });
  });
}
