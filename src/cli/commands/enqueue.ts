/** `zoho-attach enqueue <manifest> [--batch NAME] [--dry-run] [--force] [--reupload]` */
import path from 'node:path';
import { loadConfig } from '../../config/config.js';
import { readManifest, type RowRejection } from '../../manifest/index.js';
import { assertBatchName, batchNameFor, enqueueRows, type EnqueueSummary } from '../../queue/enqueue.js';
import { UploadQueue } from '../../queue/upload-queue.js';
import { sourceLimitsOf, type SourceLimits } from '../../sources/index.js';
import { dryRunEntries } from '../../queue/dry-run.js';
import { EXIT, UsageError, abortOnStop, parseOptions, println, type CliDeps, type Command } from '../command.js';
import { ProgressLine } from '../progress-line.js';

/** Rejections printed in full; the rest are counted (the report lists them all). */
const REJECTIONS_PRINTED = 200;

export const enqueueCommand: Command = {
  summary: 'validate a CSV/JSONL manifest and enqueue its rows as upload jobs',
  usage: `zoho-attach enqueue <manifest> [--batch NAME] [--dry-run] [--force] [--reupload]

  <manifest>     CSV (with a header row) or JSONL: module, record_id, file | link_url, title, and pass-through columns
  --batch NAME   name of the run (default: the manifest's file name without extension)
  --dry-run      validate every row and check that files exist and are readable (size, 100 MB, .exe); enqueue nothing
  --force        also queue rows that are dead letters (after fixing the manifest); rows the ledger
                 shows as uploaded are still skipped. Dead letters removed with \`dlq purge\` need no flag.
  --reupload     also queue rows the ledger shows as uploaded: each gets a SECOND copy in Zoho (the
                 first one stays), costing one more API credit and its bytes again. Implies --force.

Exit code: 0 all rows accepted; 1 some rows rejected (the valid ones are enqueued) or a fatal error;
2 a wrong command line; 130 interrupted (Ctrl-C: the same command goes on where it stopped).`,
  async run(argv, deps) {
    const { values, positionals } = parseOptions(argv, { batch: { type: 'string' }, 'dry-run': { type: 'boolean' }, force: { type: 'boolean' }, reupload: { type: 'boolean' } }, true);
    if (positionals.length !== 1) throw new UsageError('enqueue takes exactly one manifest path');
    const manifestPath = path.resolve(deps.cwd, positionals[0] as string);
    const batch = values.batch ?? batchNameFor(manifestPath);
    assertBatchName(batch);
    const config = loadConfig(deps.env, deps.cwd);
    const entries = readManifest(manifestPath, { baseDir: path.dirname(manifestPath) });

    if (values['dry-run']) {
      const limits: SourceLimits = sourceLimitsOf(config.sources);
      return dryRun(entries, limits, deps);
    }

    const uploadQueue = await UploadQueue.open(config);
    const progress = new ProgressLine(deps.stderr);
    try {
      const summary = await enqueueRows(uploadQueue, entries, {
        batch,
        mode: values.reupload ? 'reupload' : values.force ? 'force' : 'normal',
        source: manifestPath,
        // The first Ctrl-C stops after the chunk in flight (a second one ends the process at once).
        signal: abortOnStop(deps.stopSignal),
        onProgress: (s) => progress.update(`enqueue ${batch}: ${s.rows} rows read, ${s.enqueued} enqueued, ${s.skipped} skipped, ${s.rejected} rejected`),
      });
      progress.done();
      printSummary(summary, deps);
      if (summary.interrupted) {
        println(deps.stdout, `interrupted after ${summary.rows} rows (${summary.enqueued} enqueued). To go on, run the same command again:`);
        const flag = values.reupload ? ' --reupload' : values.force ? ' --force' : '';
        println(deps.stdout, `  zoho-attach enqueue ${shellQuote(positionals[0] as string)} --batch ${batch}${flag}`);
        println(
          deps.stdout,
          values.reupload
            ? `rows still queued are recognised, but --reupload copies again any row whose new copy was uploaded meanwhile: to avoid that, enqueue only the rows after manifest row ${summary.rows}.`
            : 'rows already queued or uploaded are recognised: none is queued twice.',
        );
        return EXIT.INTERRUPTED;
      }
      return summary.rejected > 0 ? EXIT.FAILED : EXIT.OK;
    } finally {
      progress.done();
      await uploadQueue.close();
    }
  },
};

function printSummary(summary: EnqueueSummary, deps: CliDeps): void {
  println(deps.stdout, `batch ${summary.batch}: ${summary.rows} rows read`);
  println(deps.stdout, `  enqueued:                  ${summary.enqueued}${summary.requeued > 0 ? ` (${summary.requeued} of them queued again)` : ''}`);
  println(deps.stdout, `  skipped, already uploaded: ${summary.skipped}`);
  if (summary.deadLetters > 0) println(deps.stdout, `  skipped, dead letters:    ${summary.deadLetters} (\`zoho-attach dlq retry\` queues them again as they are; after fixing the manifest, enqueue it with --force)`);
  if (summary.alreadyQueued > 0) println(deps.stdout, `  already queued:            ${summary.alreadyQueued} (the same row is waiting already)`);
  println(deps.stdout, `  rejected:                  ${summary.rejected}`);
  printRejections(summary.rejections, summary.rejected, deps);
}

function printRejections(rejections: RowRejection[], total: number, deps: CliDeps): void {
  for (const r of rejections.slice(0, REJECTIONS_PRINTED)) println(deps.stdout, `    line ${r.line}: ${r.field ? `${r.field}: ` : ''}${r.reason}`);
  if (total > REJECTIONS_PRINTED) println(deps.stdout, `    … and ${total - REJECTIONS_PRINTED} more (\`zoho-attach report\` lists every row)`);
}

async function dryRun(entries: ReturnType<typeof readManifest>, limits: SourceLimits, deps: CliDeps): Promise<number> {
  const { rows, ok, rejections } = await dryRunEntries(entries, limits);
  println(deps.stdout, `dry run: ${rows} rows read, ${ok} would be enqueued, ${rejections.length} rejected; nothing was enqueued`);
  printRejections(rejections, rejections.length, deps);
  return rejections.length > 0 ? EXIT.FAILED : EXIT.OK;
}

/** Quotes a path for a POSIX shell when it needs it. */
function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}
