/** `zoho-attach report --batch NAME [--format csv|jsonl] [--out FILE]` */
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { loadConfig } from '../../config/config.js';
import { writeReport, type ReportFormat } from '../../ledger/report.js';
import { UploadQueue } from '../../queue/upload-queue.js';
import { EXIT, UsageError, parseOptions, println, type Command } from '../command.js';

export const reportCommand: Command = {
  summary: "write a batch's report: one row per manifest row with status and attachment id",
  usage: `zoho-attach report --batch NAME [--format csv|jsonl] [--out FILE]

Columns: line, module, record_id, file, link_url, title, status (uploaded|dead|pending|rejected),
attachment_id, error_code, error_message, attempts, sha256, copies_removed (extra copies that settle-and-verify
deleted), then the manifest's pass-through columns.
Writes to stdout unless --out is given.`,
  async run(argv, deps) {
    const { values } = parseOptions(argv, {
      batch: { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
    });
    if (!values.batch) throw new UsageError('--batch NAME is required');
    const format = (values.format ?? 'csv') as ReportFormat;
    if (format !== 'csv' && format !== 'jsonl')
      throw new UsageError(`--format "${values.format}" must be csv or jsonl`);
    const config = loadConfig(deps.env, deps.cwd);
    const uploadQueue = await UploadQueue.open(config);
    try {
      if (!(await uploadQueue.ledger.getBatch(values.batch))) {
        println(deps.stderr, `no batch named "${values.batch}" (see \`zoho-attach status\`)`);
        return EXIT.FAILED;
      }
      if (!values.out) {
        await writeReport(uploadQueue.ledger, values.batch, format, deps.stdout);
        return EXIT.OK;
      }
      const outPath = path.resolve(deps.cwd, values.out);
      const out = createWriteStream(outPath);
      const count = await writeReport(uploadQueue.ledger, values.batch, format, out);
      out.end();
      await finished(out);
      println(deps.stderr, `report: ${count} rows written to ${outPath}`);
      return EXIT.OK;
    } finally {
      await uploadQueue.close();
    }
  },
};
