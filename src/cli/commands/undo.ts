/** `zoho-attach undo --batch NAME [--dry-run] [--yes] [--concurrency N] [--json]` */
import { createInterface } from 'node:readline/promises';
import { loadConfig } from '../../config/config.js';
import { UploadQueue } from '../../queue/upload-queue.js';
import { planUndo, undoBatch, type UndoPlan } from '../../undo/undo-batch.js';
import {
  borrowedConcurrencyOption,
  EXIT,
  UsageError,
  parseOptions,
  println,
  type CliDeps,
  type Command,
} from '../command.js';

export const undoCommand: Command = {
  summary: 'delete exactly the attachments a batch created, and nothing else (asks first; resumable)',
  usage: `zoho-attach undo --batch NAME [--dry-run] [--yes] [--concurrency N] [--json]

Deletes from Zoho the attachment of every row the batch uploaded and owns, one API call each, and
marks each row "undone" in the ledger. Attachments that were on a record before the batch, that
another batch uploaded, or that a person added are not touched: only the ids the ledger recorded
for this batch's own rows are deleted. The batch must be finished (no pending row).

On a terminal it asks you to type the batch name first; elsewhere --yes is required.
Interrupted, it goes on where it stopped when run again. Calls that fail transiently or meet a 429
are retried with backoff; --concurrency (default 2) bounds the deletions at once; those slots
are taken from the workers' shared limit while undo runs. Enqueueing the manifest again afterwards uploads the rows again.

  --dry-run         list what would be deleted (line, record, attachment id) and delete nothing
  --yes             do not ask
  --json            the plan (--dry-run) or the result as JSON`,
  async run(argv, deps) {
    const { values } = parseOptions(argv, {
      batch: { type: 'string' },
      'dry-run': { type: 'boolean' },
      yes: { type: 'boolean' },
      concurrency: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (!values.batch) throw new UsageError('--batch NAME is required');
    const concurrency = borrowedConcurrencyOption(values.concurrency);
    const config = loadConfig(deps.env, deps.cwd);
    const uploadQueue = await UploadQueue.open(config);
    try {
      const plan = await planUndo(uploadQueue, values.batch);
      if (values['dry-run']) {
        if (values.json) println(deps.stdout, JSON.stringify(plan, null, 2));
        else printPlan(plan, deps);
        return EXIT.OK;
      }
      if (plan.targets.length === 0) {
        println(deps.stdout, `batch ${plan.batch}: nothing to undo (${plan.alreadyUndone} rows undone already)`);
        return EXIT.OK;
      }
      if (!values.yes && !(await confirmed(plan, deps))) {
        println(deps.stderr, 'nothing deleted');
        return EXIT.FAILED;
      }
      const client = uploadQueue.zohoClient();
      try {
        let last = 0;
        const result = await undoBatch(uploadQueue, client, plan, {
          concurrency,
          onProgress: ({ done, of }) => {
            if (done < of && Date.now() - last < 2_000) return;
            last = Date.now();
            println(deps.stderr, `  ${done}/${of} attachments`);
          },
        });
        if (values.json) println(deps.stdout, JSON.stringify(result, null, 2));
        else {
          println(
            deps.stdout,
            `batch ${result.batch}: ${result.deleted} attachments deleted, ${result.alreadyGone} gone already, ${result.alreadyUndone} undone by an earlier run, ${result.changed} changed meanwhile (left alone), ${result.failed.length} failed`,
          );
          for (const f of result.failed)
            println(
              deps.stdout,
              `  line ${f.line}: ${f.module} ${f.recordId} attachment ${f.attachmentId}: ${f.reason}`,
            );
          if (result.failed.length > 0) println(deps.stdout, 'run undo again to retry the failed ones');
        }
        return result.failed.length === 0 ? EXIT.OK : EXIT.FAILED;
      } finally {
        await client.close();
      }
    } finally {
      await uploadQueue.close();
    }
  },
};

function printPlan(plan: UndoPlan, deps: CliDeps): void {
  println(
    deps.stdout,
    `batch ${plan.batch}: undo would delete ${plan.targets.length} attachments (one API call each); ${plan.alreadyUndone} rows undone already; ${plan.ownedElsewhere} uploaded rows belong to another batch and stay`,
  );
  for (const t of plan.targets)
    println(deps.stdout, `  line ${t.line}: ${t.module} ${t.recordId} attachment ${t.attachmentId} (${t.source})`);
}

/** On a terminal, asks for the batch name; elsewhere refuses without --yes. */
async function confirmed(plan: UndoPlan, deps: CliDeps): Promise<boolean> {
  const records = new Set(plan.targets.map((t) => `${t.module}/${t.recordId}`)).size;
  if (deps.stdin?.isTTY !== true)
    throw new UsageError(
      `undo deletes ${plan.targets.length} attachments on ${records} records: add --yes when not on a terminal (--dry-run lists them)`,
    );
  const prompt = createInterface({ input: deps.stdin, output: deps.stderr });
  try {
    const answer = await prompt.question(
      `Delete ${plan.targets.length} attachments that batch ${plan.batch} created on ${records} records from Zoho? Type the batch name to confirm: `,
    );
    return answer.trim() === plan.batch;
  } finally {
    prompt.close();
  }
}
