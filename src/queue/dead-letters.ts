/**
 * Dead letters: rows that cannot succeed as they are (a permanent 4xx, a source problem)
 * or that ran out of attempts. They are BullMQ's failed jobs, kept until an operator retries
 * or purges them; the ledger holds their structured reason.
 */
import { createHash } from 'node:crypto';
import type { Job } from 'bullmq';
import type { LedgerItem } from '../ledger/ledger.js';
import { csvLine } from '../report/csv.js';
import type { UploadJobData, UploadJobResult } from './upload-job.js';
import { UPLOAD_JOB_NAME, targetLocation } from './upload-job.js';
import type { UploadQueue } from './upload-queue.js';

/** Which dead letters a command acts on. */
export interface DeadLetterFilter {
  batch?: string | undefined;
  code?: string | undefined;
  /** A group's id, as `dlq list` shows it (see {@link deadLetterGroupId}). */
  group?: string | undefined;
}

/** One dead letter with its reason. */
export interface DeadLetter {
  jobId: string;
  batch: string;
  line: number;
  module: string;
  recordId: string;
  /** `file`, `url` or `link`. */
  kind: UploadJobData['target']['kind'];
  location: string;
  title?: string | undefined;
  code: string;
  message: string;
  httpStatus?: number | undefined;
  details?: Record<string, unknown> | undefined;
  attempts: number;
  failedAt?: number | undefined;
}

/**
 * Dead letters that failed the same way: the same code, and the same message once the parts
 * that differ from row to row (ids, paths, URLs, numbers) are set aside.
 */
export interface DeadLetterGroup {
  /** A short stable id of the signature, for `dlq retry|export|purge --group ID`. */
  id: string;
  code: string;
  /** The message with its row-specific parts replaced by placeholders (`<path>`, `<url>`, `<id>`, `<n>`). */
  signature: string;
  count: number;
  /** The most frequent distinct messages in the group, with counts (at most 10). */
  messages: Array<{ message: string; count: number }>;
  /** Distinct messages not listed in `messages`. */
  moreMessages: number;
  /** One row of the group, to show what it looks like. */
  sample: DeadLetter;
}

/** Distinct messages kept per group. */
const MESSAGES_PER_GROUP = 10;

/**
 * A message with what varies from row to row replaced by placeholders, so that "/data/a.pdf
 * does not exist" and "/data/b b.pdf does not exist" make one group. The row's own path or URL
 * is replaced first (a path may hold spaces no pattern can tell from words), then any other
 * URL, path, quoted value, long hex id and number.
 */
export function deadLetterSignature(message: string, location?: string): string {
  const own = location ? message.split(location).join(/^https?:/i.test(location) ? '<url>' : '<path>') : message;
  return own
    .replace(/\bhttps?:\/\/\S+/gi, '<url>')
    .replace(/(?:[A-Za-z]:)?(?:[\\/][^\s"'`,;:()[\]<>]+)+/g, '<path>')
    .replace(/"[^"]*"/g, '"…"')
    .replace(/\b[0-9a-f]{16,}\b/gi, '<id>')
    .replace(/\b\d+(?:\.\d+)?\b/g, '<n>');
}

/** The id of a group: a short hash of its code and signature. */
export function deadLetterGroupId(code: string, signature: string): string {
  return createHash('sha256').update(`${code}\n${signature}`).digest('hex').slice(0, 10);
}

/** The columns an export adds after the manifest's own: why each row is a dead letter. */
const EXPORT_REASON_COLUMNS = ['dlq_error_code', 'dlq_error_message'];

/** Failed jobs read per round trip. */
const PAGE = 500;

/** Every dead letter matching the filter, streamed page by page. */
export async function* iterateDeadLetters(
  uploadQueue: UploadQueue,
  filter: DeadLetterFilter = {},
): AsyncGenerator<DeadLetter> {
  // Pages are read from the end so removing the jobs already seen (retry, purge) cannot skip any.
  const total = await uploadQueue.queue.getFailedCount();
  for (let end = total - 1; end >= 0; end -= PAGE) {
    const start = Math.max(0, end - PAGE + 1);
    const jobs = (await uploadQueue.queue.getFailed(start, end)).filter(
      (j): j is Job<UploadJobData, UploadJobResult> => Boolean(j?.id) && j.name === UPLOAD_JOB_NAME,
    );
    const items = await uploadQueue.ledger.getItems(jobs.map((j) => j.id as string));
    for (const [i, job] of jobs.entries()) {
      const letter = toDeadLetter(job, items[i]);
      if (filter.batch !== undefined && letter.batch !== filter.batch) continue;
      if (filter.code !== undefined && letter.code !== filter.code) continue;
      if (
        filter.group !== undefined &&
        deadLetterGroupId(letter.code, deadLetterSignature(letter.message, letter.location)) !== filter.group
      )
        continue;
      yield letter;
    }
  }
}

/** Dead letters grouped by code and message signature, largest group first. */
export async function groupDeadLetters(
  uploadQueue: UploadQueue,
  filter: DeadLetterFilter = {},
): Promise<DeadLetterGroup[]> {
  const groups = new Map<
    string,
    { code: string; signature: string; count: number; messages: Map<string, number>; sample: DeadLetter }
  >();
  for await (const letter of iterateDeadLetters(uploadQueue, filter)) {
    const signature = deadLetterSignature(letter.message, letter.location);
    const id = deadLetterGroupId(letter.code, signature);
    const group = groups.get(id) ?? {
      code: letter.code,
      signature,
      count: 0,
      messages: new Map<string, number>(),
      sample: letter,
    };
    group.count++;
    group.messages.set(letter.message, (group.messages.get(letter.message) ?? 0) + 1);
    groups.set(id, group);
  }
  return [...groups.entries()]
    .map(([id, g]) => ({
      id,
      code: g.code,
      signature: g.signature,
      count: g.count,
      messages: [...g.messages.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, MESSAGES_PER_GROUP)
        .map(([message, count]) => ({ message, count })),
      moreMessages: Math.max(0, g.messages.size - MESSAGES_PER_GROUP),
      sample: g.sample,
    }))
    .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code) || a.signature.localeCompare(b.signature));
}

/**
 * Puts matching dead letters back in the queue with fresh attempts. Returns how many.
 * A revived row keeps its "may already be stored" mark: if an earlier attempt may have stored
 * a copy, its next attempt lists the record before it posts. Crash-safe: the ledger records a
 * requeue intent with the revival, cleared once the job is back (see recovery.ts).
 */
export async function retryDeadLetters(uploadQueue: UploadQueue, filter: DeadLetterFilter = {}): Promise<number> {
  let retried = 0;
  for await (const letter of iterateDeadLetters(uploadQueue, filter)) {
    const job = await uploadQueue.queue.getJob(letter.jobId);
    if (!job) continue;
    await uploadQueue.ledger.reviveDead(letter.jobId, { batch: letter.batch, line: letter.line });
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    await uploadQueue.ledger.clearRequeueIntents([letter.jobId]);
    retried++;
  }
  return retried;
}

/**
 * Removes matching dead letters from the queue. The ledger keeps their outcome and notes the
 * purge, so that enqueueing their manifest again (fixed or not) queues them normally, and
 * their "may already be stored" mark still applies. Returns how many.
 */
export async function purgeDeadLetters(uploadQueue: UploadQueue, filter: DeadLetterFilter = {}): Promise<number> {
  let purged = 0;
  for await (const letter of iterateDeadLetters(uploadQueue, filter)) {
    await uploadQueue.ledger.markPurged(letter.jobId);
    purged += await uploadQueue.queue.remove(letter.jobId);
  }
  return purged;
}

/**
 * Writes matching dead letters as a CSV manifest — `module, record_id, file, link_url, title`,
 * then `dlq_error_code`, `dlq_error_message` and the batches' pass-through columns — ready to
 * fix and enqueue again. Returns how many rows it wrote.
 */
export async function exportDeadLetters(
  uploadQueue: UploadQueue,
  filter: DeadLetterFilter,
  out: NodeJS.WritableStream,
): Promise<number> {
  const { ledger } = uploadQueue;
  // The columns must be known before the first line: take them from the batches involved.
  const batches = filter.batch === undefined ? await ledger.listBatches() : [filter.batch];
  // A row enqueued from an earlier export carries that export's dlq_* columns as pass-through:
  // they are replaced by this export's, never written twice.
  const extras = [...new Set((await Promise.all(batches.map((b) => ledger.extraColumns(b)))).flat())]
    .filter((column) => !EXPORT_REASON_COLUMNS.includes(column))
    .sort();
  const write = (line: string) =>
    out.write(line) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', resolve));
  await write(csvLine(['module', 'record_id', 'file', 'link_url', 'title', ...EXPORT_REASON_COLUMNS, ...extras]));
  let count = 0;
  for await (const letter of iterateDeadLetters(uploadQueue, filter)) {
    const extra = (await ledger.getRow(letter.batch, letter.line))?.extra ?? {};
    const isLink = letter.kind === 'link';
    await write(
      csvLine([
        letter.module,
        letter.recordId,
        isLink ? '' : letter.location,
        isLink ? letter.location : '',
        letter.title ?? '',
        letter.code,
        letter.message,
        ...extras.map((c) => extra[c] ?? ''),
      ]),
    );
    count++;
  }
  return count;
}

function toDeadLetter(job: Job<UploadJobData, UploadJobResult>, item: LedgerItem | undefined): DeadLetter {
  return {
    jobId: job.id as string,
    batch: job.data.batch,
    line: job.data.line,
    module: job.data.module,
    recordId: job.data.recordId,
    kind: job.data.target.kind,
    location: targetLocation(job.data.target),
    title: job.data.title,
    // The ledger has the code as data; a job BullMQ failed by itself (stalled too often) may not be in it yet.
    code: item?.errorCode ?? (job.deferredFailure !== undefined ? 'STALLED_TOO_OFTEN' : 'UNKNOWN'),
    message: item?.errorMessage ?? job.failedReason ?? '',
    httpStatus: item?.errorHttpStatus,
    details: item?.errorDetails,
    attempts: item?.attempts ?? job.attemptsMade,
    failedAt: job.finishedOn,
  };
}
