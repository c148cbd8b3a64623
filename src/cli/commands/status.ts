/** `zoho-attach status [--batch NAME] [--json] [--watch [--interval S] [--until-done]]` */
import { loadConfig } from '../../config/config.js';
import { readProgress, type BatchProgress } from '../../queue/progress.js';
import { formatProgressLine } from '../progress-format.js';
import { LineBlock } from '../progress-line.js';
import { readStatus, type StatusSnapshot } from '../../queue/status.js';
import { UploadQueue } from '../../queue/upload-queue.js';
import { safeErrorMessage } from '../../shared/redact.js';
import { EXIT, intOption, parseOptions, println, type CliDeps, type Command } from '../command.js';

export const statusCommand: Command = {
  summary: 'counts per state, per batch; whether the queue is paused and why; --watch for live progress',
  usage: `zoho-attach status [--batch NAME] [--json] [--watch [--interval S] [--until-done]]

  --batch NAME   one batch only (default: every batch)
  --json         machine output (with --watch: one JSON object per line, per interval)
  --watch        live progress per batch: done/total, uploads/s, bytes/s, ETA, retries, 429s, dead letters;
                 redrawn in place on a terminal, a plain line per interval elsewhere
  --interval S   seconds between updates (default 2)
  --until-done   with --watch: exit once no watched batch has pending rows`,
  async run(argv, deps) {
    const { values } = parseOptions(argv, {
      batch: { type: 'string' },
      json: { type: 'boolean' },
      watch: { type: 'boolean' },
      interval: { type: 'string' },
      'until-done': { type: 'boolean' },
    });
    const intervalMs = (intOption('interval', values.interval, 1, 3600) ?? 2) * 1000;
    const config = loadConfig(deps.env, deps.cwd);
    const uploadQueue = await UploadQueue.open(config);
    try {
      const snapshot = await readStatus(uploadQueue, values.batch);
      if (values.batch !== undefined && snapshot.batches.length === 0) {
        println(deps.stderr, `no batch named "${values.batch}"`);
        return EXIT.FAILED;
      }
      if (!values.watch) {
        if (values.json) println(deps.stdout, JSON.stringify(snapshot, null, 2));
        else printStatus(snapshot, deps);
        return EXIT.OK;
      }
      await watch(
        uploadQueue,
        values.batch,
        { json: values.json ?? false, intervalMs, untilDone: values['until-done'] ?? false },
        deps,
      );
      return EXIT.OK;
    } finally {
      await uploadQueue.close();
    }
  },
};

function printStatus(s: StatusSnapshot, deps: CliDeps): void {
  const q = s.queue;
  println(
    deps.stdout,
    `queue ${s.queueName}: ${q.backlog} in the backlog, ${q.waiting} waiting, ${q.active} active, ${q.delayed} delayed, ${q.failed} dead letters${s.paused ? ' — PAUSED' : ''}`,
  );
  if (s.pauseReason)
    println(
      deps.stdout,
      `  paused because [${s.pauseReason.code}] ${s.pauseReason.message}\n  to fix: ${s.pauseReason.hint}; then run \`zoho-attach resume\``,
    );
  if (s.credits)
    println(
      deps.stdout,
      `  Zoho API credits remaining: ${s.credits.remaining} (as of ${new Date(s.credits.at).toISOString()})`,
    );
  println(
    deps.stdout,
    `  API credits spent in the last 24 hours: ${s.creditsSpent.last24h}${s.creditsSpent.budget === undefined ? '' : ` of a budget of ${s.creditsSpent.budget} (ZOHO_ATTACH_CREDIT_BUDGET)`}`,
  );
  if (s.runWindow)
    println(
      deps.stdout,
      s.runWindow.rule === null
        ? `  run window: none covers now (ZOHO_ATTACH_WINDOWS): ZOHO_CONCURRENCY, ${s.runWindow.concurrency} uploads in flight`
        : `  run window: ${s.runWindow.rule} (ZOHO_ATTACH_WINDOWS): at most ${s.runWindow.concurrency} uploads in flight now`,
    );
  if (s.concurrency.limit < s.concurrency.max)
    println(
      deps.stdout,
      `  uploads in flight: at most ${s.concurrency.limit} (Zoho refused more; ZOHO_CONCURRENCY is ${s.concurrency.max})`,
    );
  if (s.batches.length === 0) println(deps.stdout, 'no batches yet');
  for (const b of s.batches) {
    println(
      deps.stdout,
      `batch ${b.name}: ${b.accepted} rows accepted, ${b.rejected} rejected; of the ${b.owned} it queued: ${b.uploaded} uploaded, ${b.pending} pending${b.backlog > 0 ? ` (${b.backlog} in the backlog)` : ''}, ${b.dead} dead${b.undone > 0 ? `, ${b.undone} undone` : ''}; ${b.retries} retries, ${b.rateLimited} × 429, ${b.credits} API credits${b.verifying > 0 ? `; ${b.verifying} settle-and-verify listings due` : ''}${b.copiesRemoved > 0 ? `; ${b.copiesRemoved} extra copies removed` : ''}`,
    );
    const held = s.heldBatches[b.name];
    if (held)
      println(
        deps.stdout,
        `  HELD: ${held.credits} API credits spent for it in the last 24 hours, ZOHO_ATTACH_CREDIT_BUDGET is ${held.budget}; it goes on by itself at about ${new Date(held.freesAt).toISOString()}`,
      );
  }
}

interface WatchOptions {
  json: boolean;
  intervalMs: number;
  untilDone: boolean;
}

/** Samples the status every interval and shows progress until stopped (or done). */
async function watch(
  uploadQueue: UploadQueue,
  batch: string | undefined,
  options: WatchOptions,
  deps: CliDeps,
): Promise<void> {
  const block = new LineBlock(deps.stdout, deps.stdout.isTTY === true && !options.json);
  const draw = (lines: string[]) => block.draw(lines);
  let stopped = false;
  void deps.stopSignal.then(() => (stopped = true));

  let unreachableSince: number | undefined;

  while (!stopped) {
    let snapshot: StatusSnapshot;
    let progress: BatchProgress[];
    try {
      snapshot = await readStatus(uploadQueue, batch);
      progress = await readProgress(uploadQueue, snapshot.batches);
      unreachableSince = undefined;
    } catch (error) {
      // Redis went away: say so and keep watching; the connection comes back by itself.
      unreachableSince ??= Date.now();
      const line = `Redis unreachable since ${new Date(unreachableSince).toLocaleTimeString()} (${safeErrorMessage(error)}); retrying every ${options.intervalMs / 1000} s`;
      if (options.json)
        println(
          deps.stdout,
          JSON.stringify({
            at: new Date().toISOString(),
            redisUnreachableSince: new Date(unreachableSince).toISOString(),
            error: safeErrorMessage(error),
          }),
        );
      else draw([line]);
      await Promise.race([new Promise((resolve) => setTimeout(resolve, options.intervalMs)), deps.stopSignal]);
      continue;
    }
    if (options.json) {
      println(
        deps.stdout,
        JSON.stringify({
          at: new Date().toISOString(),
          queue: snapshot.queue,
          paused: snapshot.paused,
          pauseReason: snapshot.pauseReason,
          credits: snapshot.credits,
          batches: progress,
        }),
      );
    } else {
      const header = `queue ${snapshot.queueName}: ${snapshot.queue.active} in flight, ${snapshot.queue.waiting} waiting, ${snapshot.queue.backlog} in the backlog, ${snapshot.queue.delayed} delayed, ${snapshot.queue.failed} dead letters${snapshot.paused ? ` — PAUSED${snapshot.pauseReason ? ` [${snapshot.pauseReason.code}] ${snapshot.pauseReason.hint}` : ''}` : ''}`;
      draw([header, ...progress.map((p) => `  ${formatProgressLine(p)}`)]);
    }
    if (options.untilDone && progress.length > 0 && progress.every((p) => p.pending === 0)) return;
    await Promise.race([new Promise((resolve) => setTimeout(resolve, options.intervalMs)), deps.stopSignal]);
  }
}
