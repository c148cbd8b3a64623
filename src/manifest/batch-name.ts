/**
 * Batch names: the name a manifest's rows are enqueued under, checked or made from the
 * manifest's file name. Here, apart from the enqueue, so that the command's thread can name
 * a batch without loading the queue (see cli/commands/enqueue.ts).
 */
import path from 'node:path';
import { ZohoAttachError } from '../shared/errors.js';

/** Batch names become part of Redis keys: keep them to a safe alphabet. */
const BATCH_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Throws a clear error when `batch` cannot be a batch name. */
export function assertBatchName(batch: string): void {
  if (!BATCH_NAME.test(batch)) {
    throw new ZohoAttachError(
      'INVALID_BATCH',
      `--batch "${batch}": use 1-128 letters, digits, _ . - (starting with a letter or digit)`,
    );
  }
}

/** The default batch name for a manifest: its file name without the extension. */
export function batchNameFor(manifestPath: string): string {
  const base = path.basename(manifestPath).replace(/\.(csv|jsonl|ndjson|json|txt)$/i, '');
  const cleaned = base
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 128);
  return cleaned.length > 0 ? cleaned : 'batch';
}
