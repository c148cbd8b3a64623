/** `zoho-attach enqueue <manifest> [--batch NAME] [--dry-run] [--force] [--reupload] [--allow-empty] [--skip-source-checks]` */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadConfig } from '../../config/config.js';
import { assertBatchName, batchNameFor, readManifest, type RowRejection } from '../../manifest/index.js';
import type { EnqueueSummary } from '../../queue/enqueue.js';
import type { RowCheckOptions } from '../../queue/row-checks.js';
import { EXIT, UsageError, parseOptions, println, type CliDeps, type Command } from '../command.js';
import { ProgressLine } from '../progress-line.js';
import type { EnqueueCommandMessage, EnqueueJob, EnqueueThreadMessage } from './enqueue-worker.js';

/** Rejections printed in full; the rest are counted (the report lists them all). */
const REJECTIONS_PRINTED = 200;

export const enqueueCommand: Command = {
  summary: 'validate a CSV/JSONL manifest and enqueue its rows as upload jobs',
  usage: `zoho-attach enqueue <manifest> [--batch NAME] [--dry-run] [--force] [--reupload] [--allow-empty] [--skip-source-checks]

  <manifest>     CSV (with a header row) or JSONL: module, record_id, file | link_url, title, and pass-through columns
  --batch NAME   name of the run (default: the manifest's file name without extension)
  --dry-run      run every check enqueue runs, and enqueue nothing
  --force        also queue rows that are dead letters (after fixing the manifest); rows the ledger
                 shows as uploaded are still skipped. Dead letters removed with \`dlq purge\` need no flag.
  --reupload     also queue rows the ledger shows as uploaded: each gets a SECOND copy in Zoho (the
                 first one stays), costing one more API credit and its bytes again. Implies --force.
  --allow-empty  accept 0-byte files (refused by default: usually a failed export or a truncated copy)
  --skip-source-checks
                 do not open each file or URL before queueing it (when this machine cannot see the
                 files the workers will read; the workers still check)
  --archive FILE skip the rows this archive (\`zoho-attach archive\`) shows uploaded; repeat it for
                 several archives. An archived batch has left Redis: without it, its rows would be
                 uploaded again.

Each row is validated, then its source is checked as a worker will open it: the file exists, is
readable, lies under ZOHO_ATTACH_FILE_ROOTS, is at most 100 MB, not empty, not .exe; a URL passes the
address guard and answers. A refused row is listed with its line and reason and kept out; the rest
are enqueued. --dry-run runs exactly these checks.

Exit code: 0 all rows accepted; 1 some rows rejected (the valid ones are enqueued) or a fatal error;
2 a wrong command line; 130 interrupted (Ctrl-C: the same command goes on where it stopped).`,
  async run(argv, deps) {
    const { values, positionals } = parseOptions(
      argv,
      {
        batch: { type: 'string' },
        'dry-run': { type: 'boolean' },
        force: { type: 'boolean' },
        reupload: { type: 'boolean' },
        'allow-empty': { type: 'boolean' },
        'skip-source-checks': { type: 'boolean' },
        archive: { type: 'string', multiple: true },
      },
      true,
    );
    if (positionals.length !== 1) throw new UsageError('enqueue takes exactly one manifest path');
    const manifestPath = path.resolve(deps.cwd, positionals[0] as string);
    const batch = values.batch ?? batchNameFor(manifestPath);
    assertBatchName(batch);
    // Read on this thread too: a configuration problem is reported before the enqueue's thread starts.
    const config = loadConfig(deps.env, deps.cwd);
    // Said at once: a misspelt column leaves its field empty in every row from here on.
    const onWarning = (warning: string) => println(deps.stderr, `warning: ${warning}`);

    if (values['dry-run']) {
      // Loaded only here: the enqueue's thread loads its own, and this thread stays small.
      const { sourceLimitsOf } = await import('../../sources/index.js');
      const checks: RowCheckOptions = {
        sources: values['skip-source-checks']
          ? false
          : { limits: sourceLimitsOf(config.sources), allowEmpty: values['allow-empty'] ?? false },
        onWarning,
      };
      return dryRun(readManifest(manifestPath, { baseDir: path.dirname(manifestPath) }), checks, deps);
    }

    // The enqueue runs on a thread of its own, with heap limits of its own (see ENQUEUE_HEAP_LIMITS).
    const progress = new ProgressLine(deps.stderr);
    try {
      const summary = await enqueueOnThread(
        {
          env: { ...deps.env },
          cwd: deps.cwd,
          manifestPath,
          batch,
          mode: values.reupload ? 'reupload' : values.force ? 'force' : 'normal',
          skipSourceChecks: values['skip-source-checks'] ?? false,
          allowEmpty: values['allow-empty'] ?? false,
          archives: values.archive?.map((file) => path.resolve(deps.cwd, file)),
        },
        {
          onWarning,
          onProgress: (s) =>
            progress.update(
              `enqueue ${batch}: ${s.rows} rows read, ${s.enqueued} enqueued, ${s.skipped} skipped, ${s.rejected} rejected`,
            ),
          // The first Ctrl-C stops after the chunk in flight (a second one ends the process at once).
          stopSignal: deps.stopSignal,
        },
      );
      progress.done();
      printSummary(summary, deps);
      if (summary.interrupted) {
        println(
          deps.stdout,
          `interrupted after ${summary.rows} rows (${summary.enqueued} enqueued). To go on, run the same command again:`,
        );
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
    }
  },
};

/**
 * The enqueue thread's heap limits (Node's `resourceLimits`, see enqueue-worker.ts). Measured with
 * `npm run bench:backlog` (BENCHMARKS.md, "Enqueue RSS"): a million link rows allocate about 11 KB
 * each, nearly all of it garbage at once, yet V8's defaults let it pile up to a 200 MB process.
 */
export const ENQUEUE_HEAP_LIMITS = {
  /**
   * Young generation: two semi-spaces of 4 MB and a large-object space of the same size (16 MB
   * semi-spaces by default). Collected more often, and still cheaply: a chunk's garbage dies young.
   */
  maxYoungGenerationSizeMb: 12,
  /**
   * Old generation, the heap's ceiling: 2 GB (about 4 GB by default on a machine this size). Below
   * 2,048 MB, V8 lets the old generation grow to at most twice what was live after a full
   * collection (4 times above), which is what halves the peak; lower still it collects so often
   * that the enqueue slows down. The rows in flight need a few MB. Not set when `--archive` files
   * are consulted: their rows are held in memory (about 150 MB per million), and a migration's
   * archives may hold tens of millions.
   */
  maxOldGenerationSizeMb: 2_047,
} as const;

/** Runs the enqueue on its own thread (enqueue-worker.ts) and resolves with its summary. */
async function enqueueOnThread(
  job: EnqueueJob,
  events: {
    onWarning: (text: string) => void;
    onProgress: (counts: { rows: number; enqueued: number; skipped: number; rejected: number }) => void;
    stopSignal: Promise<string>;
  },
): Promise<EnqueueSummary> {
  const thread = new Worker(new URL('./enqueue-worker.js', import.meta.url), {
    workerData: job,
    resourceLimits:
      job.archives === undefined
        ? ENQUEUE_HEAP_LIMITS
        : { maxYoungGenerationSizeMb: ENQUEUE_HEAP_LIMITS.maxYoungGenerationSizeMb },
  });
  void events.stopSignal.then((signal) => thread.postMessage({ kind: 'stop', signal } satisfies EnqueueCommandMessage));
  try {
    const outcome = await new Promise<EnqueueThreadMessage>((resolve, reject) => {
      thread.on('message', (message: EnqueueThreadMessage) => {
        if (message.kind === 'warning') events.onWarning(message.text);
        else if (message.kind === 'progress') events.onProgress(message);
        else resolve(message);
      });
      // The thread failed outside the enqueue: it could not start, or ran out of heap.
      thread.once('error', reject);
      thread.once('exit', () => reject(new Error('the enqueue thread ended without a summary')));
    });
    if (outcome.kind === 'failed')
      throw Object.assign(new Error(outcome.message), { name: outcome.name, code: outcome.code });
    return (outcome as Extract<EnqueueThreadMessage, { kind: 'done' }>).summary;
  } finally {
    // As the process's exit would: a connection's timer or socket left open must not keep the thread alive.
    await thread.terminate();
  }
}

function printSummary(summary: EnqueueSummary, deps: CliDeps): void {
  println(deps.stdout, `batch ${summary.batch}: ${summary.rows} rows read`);
  println(
    deps.stdout,
    `  enqueued:                  ${summary.enqueued}${summary.requeued > 0 ? ` (${summary.requeued} of them queued again)` : ''}`,
  );
  println(
    deps.stdout,
    `  skipped, already uploaded: ${summary.skipped}${summary.skippedArchived > 0 ? ` (${summary.skippedArchived} of them per the archives)` : ''}`,
  );
  if (summary.deadLetters > 0)
    println(
      deps.stdout,
      `  skipped, dead letters:    ${summary.deadLetters} (\`zoho-attach dlq retry\` queues them again as they are; after fixing the manifest, enqueue it with --force)`,
    );
  if (summary.alreadyQueued > 0)
    println(deps.stdout, `  already queued:            ${summary.alreadyQueued} (the same row is waiting already)`);
  if (summary.lookups.rows > 0)
    println(
      deps.stdout,
      `  found by a field:          ${summary.lookups.resolved} of ${summary.lookups.rows} rows naming their record by lookup_field (${summary.lookups.queries} COQL queries = API credits, ${summary.lookups.cached} values from this batch's cache)`,
    );
  println(deps.stdout, `  rejected:                  ${summary.rejected}`);
  printRejections(summary.rejections, summary.rejected, deps);
  if (summary.nothingNew && summary.rows > 0) {
    println(deps.stdout, `nothing new: each of the ${summary.rows} rows is already uploaded, queued or a dead letter`);
    if (summary.batchDropped)
      println(
        deps.stdout,
        `  so no batch ${summary.batch} was created; \`zoho-attach status\` shows the batches that queued these rows`,
      );
  }
}

function printRejections(rejections: RowRejection[], total: number, deps: CliDeps): void {
  for (const r of rejections.slice(0, REJECTIONS_PRINTED))
    println(deps.stdout, `    line ${r.line}: ${r.field ? `${r.field}: ` : ''}${r.reason}`);
  if (total > REJECTIONS_PRINTED)
    println(deps.stdout, `    … and ${total - REJECTIONS_PRINTED} more (\`zoho-attach report\` lists every row)`);
}

async function dryRun(
  entries: ReturnType<typeof readManifest>,
  checks: RowCheckOptions,
  deps: CliDeps,
): Promise<number> {
  const { dryRunEntries } = await import('../../queue/dry-run.js');
  const { rows, ok, rejections } = await dryRunEntries(entries, checks);
  println(
    deps.stdout,
    `dry run: ${rows} rows read, ${ok} would be enqueued, ${rejections.length} rejected; nothing was enqueued`,
  );
  printRejections(rejections, rejections.length, deps);
  return rejections.length > 0 ? EXIT.FAILED : EXIT.OK;
}

/** Quotes a path for a POSIX shell when it needs it. */
function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}
