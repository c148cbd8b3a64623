/** `zoho-attach demo [--runs-dir DIR] [--no-dashboard]` */
import path from 'node:path';
import { runDemo } from '../../demo/run-demo.js';
import type { BatchProgress } from '../../queue/progress.js';
import { formatProgressLine } from '../progress-format.js';
import { LineBlock } from '../progress-line.js';
import { EXIT, parseOptions, println, type Command } from '../command.js';

export const demoCommand: Command = {
  summary: 'run the whole pipeline end to end against the built-in fake Zoho (no Zoho account needed)',
  usage: `zoho-attach demo [--runs-dir DIR] [--no-dashboard]

Uses the Redis at REDIS_URL, or starts a private redis-server when none answers (and stops it after).
Starts the fake Zoho (concurrency limit 10, 40-160 ms latency, a few faults), enqueues the example
manifests in jobs/examples/ plus a manifest of URLs it serves itself, runs two workers until the
queue is idle, and writes one report per batch under DIR (default: jobs/runs/).
On a terminal it then leaves the dashboard running on the demo's queue (its URL printed) until
Ctrl-C, unless --no-dashboard is given; run from a script (no terminal), it ends after the reports.`,
  async run(argv, deps) {
    const { values } = parseOptions(argv, { 'runs-dir': { type: 'string' }, 'no-dashboard': { type: 'boolean' } });
    const runsDir = path.resolve(deps.cwd, values['runs-dir'] ?? 'jobs/runs');
    // Waiting for Ctrl-C only makes sense with someone at a terminal; a script expects the demo to end.
    const keepDashboard = !values['no-dashboard'] && deps.stdout.isTTY === true;
    const progress = new DemoProgress(deps.stdout);
    const result = await runDemo({
      env: deps.env,
      runsDir,
      out: deps.stdout,
      onProgress: (batches) => progress.show(batches),
      ...(keepDashboard ? { dashboardUntil: deps.stopSignal } : {}),
    });
    println(deps.stdout, '');
    println(
      deps.stdout,
      result.duplicates === 0
        ? 'demo finished: every row is accounted for, nothing was uploaded twice.'
        : `demo finished with ${result.duplicates} duplicate(s)!`,
    );
    return result.duplicates === 0 ? EXIT.OK : EXIT.FAILED;
  },
};

/** The demo's batches while the workers run: redrawn in place on a terminal, a block of lines every 2 s elsewhere. */
class DemoProgress {
  private readonly block: LineBlock;
  private lastPlain = 0;
  private finishedShown = false;

  constructor(out: NodeJS.WritableStream & { isTTY?: boolean }) {
    this.block = new LineBlock(out);
  }

  show(batches: BatchProgress[]): void {
    const lines = batches.map((batch) => formatProgressLine(batch));
    const finished = batches.every((batch) => batch.pending === 0);
    if (this.block.inPlace) this.block.draw(lines);
    else if (!this.finishedShown && (Date.now() - this.lastPlain > 2_000 || finished)) {
      this.block.draw(lines);
      this.lastPlain = Date.now();
      this.finishedShown = finished;
    }
  }
}
