/**
 * The chaos run's manifest: local files and links spread over records, plus rows Zoho
 * refuses for good (an unknown module, records without permission), shuffled together.
 * Every row's expected outcome is remembered for the verdict.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ChaosOptions } from './chaos-options.js';

/** The module the fake does not know: its rows must end as `INVALID_MODULE` dead letters. */
export const INVALID_MODULE = 'Widgets';

/** What a row must end as. */
export type ExpectedOutcome = { status: 'uploaded' } | { status: 'dead'; code: 'INVALID_MODULE' | 'NO_PERMISSION' };

/** One manifest row and what must become of it. */
export interface ExpectedRow {
  /** The manifest line (the header is line 1). */
  line: number;
  module: string;
  recordId: string;
  kind: 'file' | 'link';
  /** The manifest's `file` (relative to the manifest). */
  file?: string;
  /** The name Zoho stores the file under. */
  fileName?: string;
  linkUrl?: string;
  title: string;
  /** The file's sha256 (files only). */
  sha256?: string;
  expected: ExpectedOutcome;
}

/** The written manifest. */
export interface ChaosManifest {
  path: string;
  rows: ExpectedRow[];
  /** Records the fake answers 403 NO_PERMISSION for. */
  noPermissionRecordIds: string[];
  /** Records refused until the run fixes them, then revived with `dlq retry`. */
  fixedByRetryRecordIds: string[];
  /** Records refused until the run fixes them, then purged and enqueued again. */
  fixedByPurgeRecordIds: string[];
}

/** Writes the files and the manifest under `dir`. */
export async function writeChaosManifest(dir: string, options: ChaosOptions): Promise<ChaosManifest> {
  const rows: Array<Omit<ExpectedRow, 'line'>> = [];
  const files: Array<{ relative: string; content: Buffer }> = [];
  let serial = 0;
  const fileRow = (module: string, recordId: string, expected: ExpectedOutcome): Omit<ExpectedRow, 'line'> => {
    serial++;
    const fileName = `doc-${serial}.txt`;
    const relative = `files/${recordId}/${fileName}`;
    // Sizes vary so that adoption (same name and size) is tested on real figures.
    const content = Buffer.from(`document ${serial} of record ${recordId}\n`.repeat(3 + ((serial * 7919) % 120)));
    files.push({ relative, content });
    return {
      module,
      recordId,
      kind: 'file',
      file: relative,
      fileName,
      title: `Doc ${serial}`,
      sha256: sha256(content),
      expected,
    };
  };
  const linkRow = (module: string, recordId: string, expected: ExpectedOutcome): Omit<ExpectedRow, 'line'> => {
    serial++;
    return {
      module,
      recordId,
      kind: 'link',
      linkUrl: `https://intranet.example.com/wiki/page-${serial}`,
      title: `Wiki ${serial}`,
      expected,
    };
  };
  const anyRow = (module: string, recordId: string, expected: ExpectedOutcome) =>
    Math.random() < options.linkShare ? linkRow(module, recordId, expected) : fileRow(module, recordId, expected);

  for (let i = 0; i < options.rows; i++) {
    const recordId = `41508680001${String(Math.floor(i / options.rowsPerRecord)).padStart(8, '0')}`;
    rows.push(anyRow('Accounts', recordId, { status: 'uploaded' }));
  }
  for (let i = 0; i < options.invalidModuleRows; i++) {
    rows.push(
      anyRow(INVALID_MODULE, `41508680002${String(i).padStart(8, '0')}`, { status: 'dead', code: 'INVALID_MODULE' }),
    );
  }
  const noPermissionRecordIds: string[] = [];
  for (let r = 0; r < options.noPermissionRecords; r++) {
    const recordId = `41508680003${String(r).padStart(8, '0')}`;
    noPermissionRecordIds.push(recordId);
    for (let i = 0; i < options.rowsPerNoPermissionRecord; i++)
      rows.push(anyRow('Contacts', recordId, { status: 'dead', code: 'NO_PERMISSION' }));
  }
  const fixedRecords = (prefix: string, plan: ChaosOptions['fixedByRetry']) =>
    Array.from({ length: plan.records }, (_, r) => {
      const recordId = `${prefix}${String(r).padStart(8, '0')}`;
      // Refused at first, fixed during the run: every row must end uploaded exactly once.
      for (let i = 0; i < plan.rowsPerRecord; i++) rows.push(anyRow('Deals', recordId, { status: 'uploaded' }));
      return recordId;
    });
  const fixedByRetryRecordIds = fixedRecords('41508680004', options.fixedByRetry);
  const fixedByPurgeRecordIds = fixedRecords('41508680005', options.fixedByPurge);
  shuffle(rows);

  for (const { relative, content } of files) {
    await mkdir(path.dirname(path.join(dir, relative)), { recursive: true });
    await writeFile(path.join(dir, relative), content);
  }
  const lines = ['module,record_id,file,link_url,title,legacy_id'];
  const numbered = rows.map((row, i) => ({ ...row, line: i + 2 }));
  for (const row of numbered)
    lines.push([row.module, row.recordId, row.file ?? '', row.linkUrl ?? '', row.title, `L-${row.line}`].join(','));
  const manifestPath = path.join(dir, 'chaos-manifest.csv');
  await writeFile(manifestPath, `${lines.join('\n')}\n`);
  return { path: manifestPath, rows: numbered, noPermissionRecordIds, fixedByRetryRecordIds, fixedByPurgeRecordIds };
}

function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

function shuffle<T>(items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
}
