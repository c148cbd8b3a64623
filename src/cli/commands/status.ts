/** `zoho-attach status [--batch NAME] [--json]` */
import { loadConfig } from '../../config/config.js';
import { readStatus, type StatusSnapshot } from '../../queue/status.js';
import { UploadQueue } from '../../queue/upload-queue.js';
import { EXIT, parseOptions, println, type CliDeps, type Command } from '../command.js';

export const statusCommand: Command = {
  summary: 'counts per state, per batch; whether the queue is paused and why',
  usage: `zoho-attach status [--batch NAME] [--json]`,
  async run(argv, deps) {
    const { values } = parseOptions(argv, { batch: { type: 'string' }, json: { type: 'boolean' } });
    const config = loadConfig(deps.env, deps.cwd);
    const uploadQueue = await UploadQueue.open(config);
    try {
      const snapshot = await readStatus(uploadQueue, values.batch);
      if (values.batch !== undefined && snapshot.batches.length === 0) {
        println(deps.stderr, `no batch named "${values.batch}"`);
        return EXIT.FAILED;
      }
      if (values.json) println(deps.stdout, JSON.stringify(snapshot, null, 2));
      else printStatus(snapshot, deps);
      return EXIT.OK;
    } finally {
      await uploadQueue.close();
    }
  },
};

function printStatus(s: StatusSnapshot, deps: CliDeps): void {
  const q = s.queue;
  println(deps.stdout, `queue ${s.queueName}: ${q.waiting} waiting, ${q.active} active, ${q.delayed} delayed, ${q.failed} dead letters${s.paused ? ' — PAUSED' : ''}`);
  if (s.pauseReason) println(deps.stdout, `  paused because [${s.pauseReason.code}] ${s.pauseReason.message}\n  to fix: ${s.pauseReason.hint}`);
  if (s.credits) println(deps.stdout, `  Zoho API credits remaining: ${s.credits.remaining} (as of ${new Date(s.credits.at).toISOString()})`);
  if (s.batches.length === 0) println(deps.stdout, 'no batches yet');
  for (const b of s.batches) {
    println(
      deps.stdout,
      `batch ${b.name}: ${b.accepted} rows accepted, ${b.rejected} rejected; of the ${b.owned} it queued: ${b.uploaded} uploaded, ${b.pending} pending, ${b.dead} dead; ${b.retries} retries, ${b.rateLimited} × 429`,
    );
  }
}
