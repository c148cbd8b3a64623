/**
 * Running the pipeline in-process, for integration tests: enqueue a manifest, run workers
 * until the queue is idle, read a batch's report rows.
 */
import path from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import type { ClaimMode } from '../../src/ledger/ledger.js';
import { readManifest } from '../../src/manifest/index.js';
import type { RowCheckOptions } from '../../src/queue/row-checks.js';
import { enqueueRows } from '../../src/queue/enqueue.js';
import { startUploadWorker, type UploadWorker } from '../../src/queue/upload-worker.js';
import { UploadQueue } from '../../src/queue/upload-queue.js';
import { createLogger } from '../../src/shared/logger.js';
import type { PipelineWorld } from './pipeline.js';

/** Workers in tests log nothing. */
export const silentLogger = createLogger({ level: 'silent', pretty: false });

/** Runs `use` with an open queue of the world (closed afterwards). */
export async function withQueue<T>(
  world: PipelineWorld,
  use: (queue: UploadQueue) => Promise<T>,
  env: Record<string, string> = {},
): Promise<T> {
  const uploadQueue = await UploadQueue.open(loadConfig({ ...world.env, ...env }, world.dir));
  try {
    return await use(uploadQueue);
  } finally {
    await uploadQueue.close();
  }
}

/** Enqueues a manifest file of the world into `batch`, as `zoho-attach enqueue` does (`checks` default to its own). */
export function enqueueManifest(
  world: PipelineWorld,
  manifest: string,
  batch: string,
  options: { mode?: ClaimMode; checks?: RowCheckOptions } = {},
) {
  return withQueue(world, (queue) =>
    enqueueRows(queue, readManifest(manifest, { baseDir: path.dirname(manifest) }), {
      batch,
      source: manifest,
      mode: options.mode ?? 'normal',
      ...(options.checks ? { checks: options.checks } : {}),
    }),
  );
}

/** Starts in-process workers for the world. */
export async function startWorkers(
  world: PipelineWorld,
  count = 1,
  env: Record<string, string> = {},
): Promise<UploadWorker[]> {
  const config = loadConfig({ ...world.env, ...env }, world.dir);
  return Promise.all(Array.from({ length: count }, () => startUploadWorker({ config, logger: silentLogger })));
}

/** Waits until the queue is idle (nothing waiting, delayed, active, or due for verification). */
export function waitUntilIdle(uploadQueue: UploadQueue, timeoutMs = 20_000): Promise<void> {
  return uploadQueue.waitUntilIdle({ pollMs: 100, timeoutMs });
}

/** Runs `count` workers until the queue is idle, then closes them. */
export async function runWorkersUntilIdle(
  world: PipelineWorld,
  options: {
    count?: number;
    env?: Record<string, string>;
    timeoutMs?: number;
    during?: (queue: UploadQueue) => Promise<void>;
  } = {},
): Promise<void> {
  const workers = await startWorkers(world, options.count ?? 1, options.env);
  try {
    await options.during?.(workers[0]!.uploadQueue);
    await waitUntilIdle(workers[0]!.uploadQueue, options.timeoutMs);
  } finally {
    await Promise.all(workers.map((worker) => worker.close()));
  }
}
