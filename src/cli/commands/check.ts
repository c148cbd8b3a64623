/** `zoho-attach check --batch NAME [--deep] [--repair] [--concurrency N] [--json]` */
import { checkBatch, type CheckPlan, type CheckResult } from '../../check/check-batch.js';
import { loadConfig } from '../../config/config.js';
import { UploadQueue } from '../../queue/upload-queue.js';
import {
  borrowedConcurrencyOption,
  EXIT,
  UsageError,
  parseOptions,
  println,
  type CliDeps,
  type Command,
} from '../command.js';

export const checkCommand: Command = {
  summary: "compare a batch's ledger with what Zoho holds, record by record (--deep: the bytes too)",
  usage: `zoho-attach check --batch NAME [--deep] [--repair] [--concurrency N] [--json]

Lists every record the batch uploaded to (every page, 200 attachments a page) and judges each row:
  ok         its attachment is there
  missing    the ledger says uploaded, but Zoho no longer has the attachment
  extra      there, with more copies of the same file or link, made since the row's first attempt,
             that no row owns (reported, never deleted)
  mismatch   (--deep) Zoho's copy does not hash to the sha256 that was sent
  unchecked  the record (or, with --deep, the file) could not be read: the reason is shown
  dead, pending   the ledger's own word: nothing to compare
Says first how many API calls it will spend (one listing per record, one download per file with
--deep), and shows progress on stderr. Exits 0 when every row is ok, dead or pending; otherwise
prints the differing rows (line, record, status, why) and exits 1.

  --deep            download every uploaded file and compare its sha256 with what was sent
  --repair          queue the missing rows again (a fresh upload each; workers do the uploads)
  --concurrency N   records listed at once (default 2; taken from the workers' shared limit while it runs)
  --json            the result as JSON`,
  async run(argv, deps) {
    const { values } = parseOptions(argv, {
      batch: { type: 'string' },
      deep: { type: 'boolean' },
      repair: { type: 'boolean' },
      concurrency: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (!values.batch) throw new UsageError('--batch NAME is required');
    const concurrency = borrowedConcurrencyOption(values.concurrency);
    const config = loadConfig(deps.env, deps.cwd);
    const uploadQueue = await UploadQueue.open(config);
    const client = uploadQueue.zohoClient();
    try {
      const result = await checkBatch(uploadQueue, client, {
        batch: values.batch,
        deep: values.deep ?? false,
        repair: values.repair ?? false,
        concurrency,
        onPlan: (plan) => println(deps.stderr, planLine(plan, values.deep ?? false)),
        onProgress: progressPrinter(deps),
      });
      if (values.json) println(deps.stdout, JSON.stringify(result, null, 2));
      else printResult(result, deps);
      return result.passed ? EXIT.OK : EXIT.FAILED;
    } finally {
      await client.close();
      await uploadQueue.close();
    }
  },
};

function planLine(plan: CheckPlan, deep: boolean): string {
  return (
    `check ${plan.batch}: ${plan.rows} rows, ${plan.uploadedRows} uploaded on ${plan.records} records; ` +
    `this spends at least ${plan.apiCallsAtLeast} API calls (${plan.records} listings, one more per 200 attachments on a record` +
    `${deep ? `, ${plan.downloads} downloads` : ''})`
  );
}

/** A progress line on stderr at most every 2 s, and at the end. */
function progressPrinter(deps: CliDeps): (p: { records: number; of: number; apiCalls: number }) => void {
  let last = 0;
  return (p) => {
    if (p.records < p.of && Date.now() - last < 2_000) return;
    last = Date.now();
    println(deps.stderr, `  ${p.records}/${p.of} records, ${p.apiCalls} API calls`);
  };
}

function printResult(result: CheckResult, deps: CliDeps): void {
  const c = result.counts;
  println(
    deps.stdout,
    `batch ${result.batch}: ${c.ok} ok, ${c.missing} missing, ${c.extra} extra, ${c.mismatch} mismatch, ${c.unchecked} unchecked, ${c.dead} dead, ${c.pending} pending` +
      ` (${result.apiCalls.listings} listings${result.deep ? `, ${result.apiCalls.downloads} downloads` : ''})`,
  );
  if (result.differing.length > 0) {
    println(deps.stdout, '');
    println(deps.stdout, `${'line'.padStart(6)}  ${'record_id'.padEnd(19)}  ${'status'.padEnd(9)}  why`);
    for (const row of result.differing)
      println(
        deps.stdout,
        `${String(row.line).padStart(6)}  ${row.recordId.padEnd(19)}  ${row.status.padEnd(9)}  ${row.module}: ${row.source} — ${row.detail ?? ''}`,
      );
  }
  if (result.repair)
    println(
      deps.stdout,
      `\nrepair: ${result.repair.requeued} missing row(s) queued again; run the workers, then check again`,
    );
  else if (c.missing > 0) println(deps.stdout, '\n--repair queues the missing rows again');
  println(deps.stdout, result.passed ? 'check passed' : 'check FAILED');
}
