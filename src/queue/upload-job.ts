/**
 * What an upload job carries, and its deterministic id. Job data is shown on the
 * dashboard: it holds the row and never a secret.
 */
import { createHash } from 'node:crypto';
import type { StoredRow } from '../ledger/ledger.js';
import { validateRow } from '../manifest/index.js';
import type { SuccessHow } from '../upload/attempt-upload.js';
import type { UploadTarget } from '../upload/upload-target.js';

export type { UploadTarget } from '../upload/upload-target.js';

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
  /** On a `verify` job only: the row (upload job id) whose copies it verifies. */
  verifies?: string;
}

/** The job that uploads one row. */
export const UPLOAD_JOB_NAME = 'upload';

/** The settle-and-verify job of a row that succeeded after an ambiguous attempt. */
export const VERIFY_JOB_NAME = 'verify';

/** The verify job's id for a row: one per row at a time. */
export function verifyJobId(rowJobId: string): string {
  return `v-${rowJobId}`;
}

/** What a finished upload job returns (kept by BullMQ while the completed job is retained). */
export interface UploadJobResult {
  attachmentId: string;
  /** `uploaded`: posted now; `adopted`: found already stored after an ambiguous failure; `already-uploaded`: the ledger had it. */
  how: SuccessHow;
}

/**
 * The job id of a row: a hash of what makes two rows "the same upload", so that
 * enqueueing the same row again, in any batch, finds the same job and ledger entry.
 * The batch and line are deliberately not part of it.
 */
export function uploadJobId(row: {
  module: string;
  recordId: string;
  target: UploadTarget;
  title?: string | undefined;
}): string {
  const identity = JSON.stringify([
    row.module,
    row.recordId,
    row.target.kind,
    targetLocation(row.target),
    row.title ?? '',
  ]);
  return `u-${createHash('sha256').update(identity).digest('hex').slice(0, 32)}`;
}

/** The path or URL of a target, as written in manifests and reports. */
export function targetLocation(target: UploadTarget): string {
  return target.kind === 'file' ? target.path : target.url;
}

/** Where a row's bytes come from, from its manifest fields: a link, a URL, or a local path. */
export function targetOfFields(file: string | undefined, linkUrl: string | undefined): UploadTarget {
  if (linkUrl !== undefined && linkUrl !== '') return { kind: 'link', url: linkUrl };
  const location = file ?? '';
  return /^https?:\/\//i.test(location) ? { kind: 'url', url: location } : { kind: 'file', path: location };
}

/** Rebuilds a row's job data from what the ledger stored of it at enqueue. */
export function jobDataFromStoredRow(batch: string, line: number, row: StoredRow): UploadJobData {
  return {
    batch,
    line,
    module: row.module,
    recordId: row.record_id,
    target: targetOfFields(row.file, row.link_url),
    ...(row.title ? { title: row.title } : {}),
  };
}

/**
 * Checks a job's data with the same validator as a manifest row, whatever put the job in the
 * queue (a manifest, the library, or anyone with access to Redis): the reason, or undefined
 * when the row is valid.
 */
export function jobDataProblem(data: UploadJobData): string | undefined {
  const target = data.target as { kind?: unknown; path?: unknown; url?: unknown } | undefined;
  if (!target || !['file', 'url', 'link'].includes(target.kind as string)) return 'target: is not a file, URL or link';
  const location = target.kind === 'file' ? target.path : target.url;
  const raw: Record<string, unknown> = {
    module: data.module,
    record_id: data.recordId,
    ...(target.kind === 'link' ? { link_url: location } : { file: location }),
    ...(data.title === undefined ? {} : { title: data.title }),
  };
  const result = validateRow(raw, data.line, '/');
  if (result.ok) return undefined;
  const { field, reason } = result.rejection;
  return field ? `${field}: ${reason}` : reason;
}
