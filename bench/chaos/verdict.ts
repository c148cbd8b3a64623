/**
 * The chaos run's verdict on the data: every row uploaded exactly once or dead with the
 * code Zoho gave it, the report (the ledger) equal to the fake's attachments row by row,
 * the dead-letter queue equal to the injected refusals.
 */
import type { AttachmentRecord } from '../../src/fake-zoho/index.js';
import type { ExpectedRow } from './chaos-manifest.js';

/** One row of `zoho-attach report --format jsonl`. */
export type ReportLine = Record<string, string>;

/** One group of `zoho-attach dlq list --json`. */
export interface DeadLetterGroupLine {
  code: string;
  count: number;
}

/** What the data says. */
export interface DataVerdict {
  rows: number;
  rowsToUpload: number;
  uploadedExactlyOnce: number;
  /** Attachments beyond the first for one row (Zoho holds the same file or link twice). */
  duplicates: number;
  /** Rows that should be in Zoho and are not (or whose ledger entry points nowhere). */
  losses: number;
  /** Attachments in Zoho that belong to no row. */
  orphans: number;
  /** Attachment ids the report gives to more than one row. */
  sharedAttachmentIds: number;
  /** `dlq list`: dead letters per code. */
  deadLettersByCode: Record<string, number>;
  /** What was injected: expected dead letters per code. */
  expectedDeadByCode: Record<string, number>;
  /** Rows whose report line differs from Zoho's attachment or from the expected outcome (first 20). */
  mismatches: string[];
  mismatchCount: number;
  failures: string[];
}

/** Compares what was asked, what the ledger says, and what Zoho holds. */
export function judgeData(
  expected: ExpectedRow[],
  report: ReportLine[],
  attachments: AttachmentRecord[],
  deadLetters: DeadLetterGroupLine[],
): DataVerdict {
  const mismatches: string[] = [];
  const reportByLine = new Map(report.map((r) => [Number(r.line), r]));
  const attachmentById = new Map(attachments.map((a) => [a.id, a]));
  const identity = (module: string, recordId: string, what: string) => `${module}/${recordId}/${what}`;
  const storedPerIdentity = new Map<string, number>();
  for (const a of attachments) {
    const key = identity(a.module, a.recordId, a.linkUrl ? `link:${a.linkUrl}` : `file:${a.fileName}`);
    storedPerIdentity.set(key, (storedPerIdentity.get(key) ?? 0) + 1);
  }

  const expectedKeys = new Set<string>();
  const expectedDeadByCode: Record<string, number> = {};
  let rowsToUpload = 0;
  let uploadedExactlyOnce = 0;
  let losses = 0;
  let duplicates = 0;
  for (const row of expected) {
    const key = identity(
      row.module,
      row.recordId,
      row.kind === 'link' ? `link:${row.linkUrl}` : `file:${row.fileName}`,
    );
    expectedKeys.add(key);
    const stored = storedPerIdentity.get(key) ?? 0;
    const line = reportByLine.get(row.line);
    const where = `line ${row.line} (${row.module}/${row.recordId} ${row.kind})`;
    if (row.expected.status === 'dead') {
      expectedDeadByCode[row.expected.code] = (expectedDeadByCode[row.expected.code] ?? 0) + 1;
      if (line?.status !== 'dead' || line.error_code !== row.expected.code) {
        mismatches.push(
          `${where}: expected dead ${row.expected.code}, report says ${line?.status ?? 'nothing'} ${line?.error_code ?? ''}`,
        );
      }
      if (stored > 0) mismatches.push(`${where}: Zoho refused it, yet holds ${stored} attachment(s) for it`);
      continue;
    }
    rowsToUpload++;
    if (stored > 1) duplicates += stored - 1;
    const attachment = line?.attachment_id ? attachmentById.get(line.attachment_id) : undefined;
    if (line?.status !== 'uploaded' || !attachment) {
      losses++;
      mismatches.push(
        `${where}: not in Zoho as the report says: status ${line?.status ?? 'missing'} ${line?.error_code ?? ''} ${line?.error_message ?? ''}, attachment ${line?.attachment_id || 'none'}`,
      );
      continue;
    }
    const problems: string[] = [];
    if (attachment.module !== row.module || attachment.recordId !== row.recordId)
      problems.push(`attachment is on ${attachment.module}/${attachment.recordId}`);
    if (row.kind === 'link' && attachment.linkUrl !== row.linkUrl)
      problems.push(`link ${attachment.linkUrl ?? 'none'}`);
    if (row.kind === 'file') {
      if (attachment.fileName !== row.fileName) problems.push(`file name ${attachment.fileName}`);
      if (attachment.sha256 !== row.sha256 || line.sha256 !== row.sha256)
        problems.push(`sha256 Zoho ${attachment.sha256.slice(0, 12)}, ledger ${(line.sha256 ?? '').slice(0, 12)}`);
    }
    if ((attachment.title ?? '') !== row.title || line.title !== row.title)
      problems.push(`title ${attachment.title ?? ''}`);
    if (problems.length > 0) {
      losses++;
      mismatches.push(`${where}: ledger and Zoho disagree: ${problems.join('; ')}`);
      continue;
    }
    if (stored === 1) uploadedExactlyOnce++;
  }

  let orphans = 0;
  for (const [key, n] of storedPerIdentity) if (!expectedKeys.has(key)) orphans += n;
  const idUse = new Map<string, number>();
  for (const r of report) if (r.attachment_id) idUse.set(r.attachment_id, (idUse.get(r.attachment_id) ?? 0) + 1);
  const sharedAttachmentIds = [...idUse.values()].filter((n) => n > 1).length;
  // Groups are per code and message: several can share a code.
  const deadLettersByCode: Record<string, number> = {};
  for (const g of deadLetters) deadLettersByCode[g.code] = (deadLettersByCode[g.code] ?? 0) + g.count;

  const failures: string[] = [];
  if (report.length !== expected.length)
    failures.push(`the report has ${report.length} rows, the manifest ${expected.length}`);
  if (duplicates > 0) failures.push(`${duplicates} duplicate attachment(s) in Zoho`);
  if (losses > 0) failures.push(`${losses} row(s) lost or mis-recorded`);
  if (orphans > 0) failures.push(`${orphans} attachment(s) in Zoho belong to no row`);
  if (sharedAttachmentIds > 0) failures.push(`${sharedAttachmentIds} attachment id(s) claimed by several rows`);
  if (mismatches.length > 0)
    failures.push(`${mismatches.length} row(s) differ from the expected outcome (see mismatches)`);
  if (JSON.stringify(sortKeys(deadLettersByCode)) !== JSON.stringify(sortKeys(expectedDeadByCode))) {
    failures.push(
      `dead letters ${JSON.stringify(sortKeys(deadLettersByCode))} differ from the injected refusals ${JSON.stringify(sortKeys(expectedDeadByCode))}`,
    );
  }
  if (uploadedExactlyOnce !== rowsToUpload)
    failures.push(`${uploadedExactlyOnce} of ${rowsToUpload} rows uploaded exactly once`);

  return {
    rows: expected.length,
    rowsToUpload,
    uploadedExactlyOnce,
    duplicates,
    losses,
    orphans,
    sharedAttachmentIds,
    deadLettersByCode,
    expectedDeadByCode,
    mismatches: mismatches.slice(0, 20),
    mismatchCount: mismatches.length,
    failures,
  };
}

function sortKeys(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
