/**
 * What an upload job carries, and its deterministic id. Job data is shown on the
 * dashboard: it holds the row and never a secret.
 */
import { createHash } from 'node:crypto';

/** Where the bytes of an upload come from, or the link to attach. */
export type UploadTarget =
  | { kind: 'file'; path: string }
  | { kind: 'url'; url: string }
  | { kind: 'link'; url: string };

/** The data of one upload job. */
export interface UploadJobData {
  /** The batch that enqueued the row (progress counters are kept per batch). */
  batch: string;
  /** The manifest line the row came from (0 for rows given through the library API without one). */
  line: number;
  module: string;
  recordId: string;
  target: UploadTarget;
  title?: string;
  /** Upload even if the ledger says this row was uploaded before (`enqueue --force`). */
  force?: boolean;
}

/** What a finished upload job returns (kept by BullMQ while the completed job is retained). */
export interface UploadJobResult {
  attachmentId: string;
  /** `uploaded`: posted now; `adopted`: found already stored after an ambiguous failure; `already-uploaded`: the ledger had it. */
  how: 'uploaded' | 'adopted' | 'already-uploaded';
}

/**
 * The job id of a row: a hash of what makes two rows "the same upload", so that
 * enqueueing the same row again, in any batch, finds the same job and ledger entry.
 * The batch and line are deliberately not part of it.
 */
export function uploadJobId(row: { module: string; recordId: string; target: UploadTarget; title?: string | undefined }): string {
  const identity = JSON.stringify([row.module, row.recordId, row.target.kind, targetLocation(row.target), row.title ?? '']);
  return `u-${createHash('sha256').update(identity).digest('hex').slice(0, 32)}`;
}

/** The path or URL of a target, as written in manifests and reports. */
export function targetLocation(target: UploadTarget): string {
  return target.kind === 'file' ? target.path : target.url;
}
