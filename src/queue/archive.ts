/**
 * `zoho-attach archive`: a finished batch's full report, with each row's evidence, goes to a
 * gzipped JSON-lines file; the file is read back and checked; only then does the batch leave
 * Redis (its rows, the items it owns, its dead letters' jobs). `report --archive` reads the file,
 * and `enqueue --archive` skips the rows it shows uploaded, so nothing is uploaded again.
 */
import { openArchive, writeArchive, type ArchivedRow } from '../ledger/archive-file.js';
import type { LedgerRowEntry } from '../ledger/ledger.js';
import { reportRowOf } from '../ledger/report.js';
import { ZohoAttachError } from '../shared/errors.js';
import type { UploadQueue } from './upload-queue.js';

/** What an archive did. */
export interface ArchiveSummary {
  batch: string;
  path: string;
  /** Manifest lines written (accepted and rejected). */
  rows: number;
  /** Rows the batch owned, now gone from Redis. */
  forgotten: number;
}

/** Rows forgotten per round trip. */
const FORGET_CHUNK = 1_000;

/**
 * Archives a finished batch to `path` (which must not exist) and removes it from Redis.
 * @throws {ZohoAttachError} NO_SUCH_BATCH; BATCH_NOT_FINISHED while rows are pending or a
 *   settle-and-verify listing is due; ARCHIVE_INVALID when the file read back differs (the batch stays)
 */
export async function archiveBatch(uploadQueue: UploadQueue, batch: string, path: string): Promise<ArchiveSummary> {
  const { ledger } = uploadQueue;
  const meta = await ledger.getBatch(batch);
  if (!meta) throw new ZohoAttachError('NO_SUCH_BATCH', `no batch named "${batch}" (see \`zoho-attach status\`)`);
  if (meta.pending > 0 || meta.verifying > 0) {
    throw new ZohoAttachError(
      'BATCH_NOT_FINISHED',
      `batch ${batch} still has ${meta.pending} pending row(s) and ${meta.verifying} settle-and-verify listing(s) due: archive it once it is finished (\`zoho-attach status --batch ${batch}\`)`,
    );
  }
  const columns = await ledger.extraColumns(batch);
  async function* archivedRows(): AsyncGenerator<ArchivedRow> {
    for await (const entry of ledger.readRows(batch)) yield archivedRowOf(entry);
  }
  const written = await writeArchive(
    path,
    { batch, archivedAt: new Date().toISOString(), meta, columns },
    archivedRows(),
  );

  // Read back before anything is removed: every line, in order, the same rows.
  const check = archivedRows();
  const { rows } = await openArchive(path);
  let read = 0;
  for await (const archived of rows) {
    const expected = (await check.next()).value as ArchivedRow | undefined;
    if (JSON.stringify(archived) !== JSON.stringify(expected)) {
      throw new ZohoAttachError(
        'ARCHIVE_INVALID',
        `${path}: line ${read + 2} differs from the ledger's row; the batch stays in Redis`,
      );
    }
    read++;
  }
  if (read !== written)
    throw new ZohoAttachError(
      'ARCHIVE_INVALID',
      `${path}: ${read} rows read back, ${written} written; the batch stays in Redis`,
    );

  // The rows are read a third time rather than their ids kept from the check: a million ids would sit in memory.
  let forgotten = 0;
  let chunk: string[] = [];
  const flush = async () => {
    forgotten += await ledger.forgetItems(batch, chunk);
    chunk = [];
  };
  for await (const entry of ledger.readRows(batch)) {
    if ('rejection' in entry) continue;
    // A dead letter's failed job goes too: it would list a row the ledger no longer has.
    if (entry.item?.status === 'dead' && entry.item.batch === batch)
      await uploadQueue.removeFinishedJob(entry.row.jobId);
    chunk.push(entry.row.jobId);
    if (chunk.length >= FORGET_CHUNK) await flush();
  }
  await flush();
  await ledger.dropBatch(batch);
  return { batch, path, rows: written, forgotten };
}

function archivedRowOf(entry: LedgerRowEntry): ArchivedRow {
  const row = reportRowOf(entry);
  if ('rejection' in entry) return { row };
  const { item } = entry;
  return {
    row,
    jobId: entry.row.jobId,
    evidence: item && {
      how: item.how,
      bytes: item.bytes,
      uploadedAt: item.uploadedAt,
      updatedAt: item.updatedAt,
      firstAttemptAt: item.firstAttemptAt,
    },
  };
}
