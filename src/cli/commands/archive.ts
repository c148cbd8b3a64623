/** `zoho-attach archive --batch NAME --out FILE.jsonl.gz` */
import path from 'node:path';
import { loadConfig } from '../../config/config.js';
import { archiveBatch } from '../../queue/archive.js';
import { UploadQueue } from '../../queue/upload-queue.js';
import { EXIT, UsageError, parseOptions, println, type Command } from '../command.js';

export const archiveCommand: Command = {
  summary: "move a finished batch out of Redis into a checked archive file (its report with each row's evidence)",
  usage: `zoho-attach archive --batch NAME --out FILE.jsonl.gz

Writes the batch's full report, with each row's evidence (row identity, how it ended, when, bytes,
sha256, attachment id), as gzipped JSON lines; reads the file back and checks every row; only then
removes the batch from Redis: its rows, the rows it owns, its dead letters' jobs. The file must not exist.
Only a finished batch is archived (no pending row, no settle-and-verify listing due).

Afterwards:  zoho-attach report --archive FILE          the report, from the file
             zoho-attach enqueue MANIFEST --archive FILE  skips the rows the file shows uploaded
                                                        (repeat --archive for several files)`,
  async run(argv, deps) {
    const { values } = parseOptions(argv, { batch: { type: 'string' }, out: { type: 'string' } });
    if (!values.batch) throw new UsageError('--batch NAME is required');
    if (!values.out) throw new UsageError('--out FILE.jsonl.gz is required');
    const outPath = path.resolve(deps.cwd, values.out);
    const uploadQueue = await UploadQueue.open(loadConfig(deps.env, deps.cwd));
    try {
      const summary = await archiveBatch(uploadQueue, values.batch, outPath);
      println(
        deps.stdout,
        `archived batch ${summary.batch}: ${summary.rows} rows written to ${summary.path} and checked;`,
      );
      println(deps.stdout, `  ${summary.forgotten} rows it owned removed from Redis`);
      return EXIT.OK;
    } finally {
      await uploadQueue.close();
    }
  },
};
