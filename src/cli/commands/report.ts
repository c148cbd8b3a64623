/** `zoho-attach report (--batch NAME | --archive FILE) [--format csv|jsonl] [--out FILE]` */
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { loadConfig } from '../../config/config.js';
import { openArchive } from '../../ledger/archive-file.js';
import { writeReport, writeReportRows, type ReportFormat } from '../../ledger/report.js';
import { UploadQueue } from '../../queue/upload-queue.js';
import { EXIT, UsageError, parseOptions, println, type CliDeps, type Command } from '../command.js';

export const reportCommand: Command = {
  summary: "write a batch's report: one row per manifest row with status and attachment id",
  usage: `zoho-attach report (--batch NAME | --archive FILE) [--format csv|jsonl] [--out FILE]

Columns: line, module, record_id, file, link_url, title, status (uploaded|dead|pending|rejected),
attachment_id, error_code, error_message, attempts, sha256, copies_removed (extra copies that settle-and-verify
deleted), then the manifest's pass-through columns.
--archive reads a batch archived with \`zoho-attach archive\` (no Redis needed).
Writes to stdout unless --out is given.`,
  async run(argv, deps) {
    const { values } = parseOptions(argv, {
      batch: { type: 'string' },
      archive: { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
    });
    if ((values.batch === undefined) === (values.archive === undefined))
      throw new UsageError('give --batch NAME or --archive FILE (one of them)');
    const format = (values.format ?? 'csv') as ReportFormat;
    if (format !== 'csv' && format !== 'jsonl')
      throw new UsageError(`--format "${values.format}" must be csv or jsonl`);

    if (values.archive !== undefined) {
      const { header, rows } = await openArchive(path.resolve(deps.cwd, values.archive));
      const report = async function* () {
        for await (const archived of rows) yield archived.row;
      };
      return toOutput(values.out, deps, (out) => writeReportRows(report(), header.columns, format, out));
    }
    const batch = values.batch as string;
    const uploadQueue = await UploadQueue.open(loadConfig(deps.env, deps.cwd));
    try {
      if (!(await uploadQueue.ledger.getBatch(batch))) {
        println(
          deps.stderr,
          `no batch named "${batch}" (see \`zoho-attach status\`; an archived batch is read with --archive FILE)`,
        );
        return EXIT.FAILED;
      }
      return await toOutput(values.out, deps, (out) => writeReport(uploadQueue.ledger, batch, format, out));
    } finally {
      await uploadQueue.close();
    }
  },
};

/** Writes to stdout, or to the file `out` (saying how many rows went there). */
async function toOutput(
  out: string | undefined,
  deps: CliDeps,
  write: (stream: NodeJS.WritableStream) => Promise<number>,
): Promise<number> {
  if (out === undefined) {
    await write(deps.stdout);
    return EXIT.OK;
  }
  const outPath = path.resolve(deps.cwd, out);
  const file = createWriteStream(outPath);
  const count = await write(file);
  file.end();
  await finished(file);
  println(deps.stderr, `report: ${count} rows written to ${outPath}`);
  return EXIT.OK;
}
