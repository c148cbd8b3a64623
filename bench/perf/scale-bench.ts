/**
 * `npm run bench:scale`: every target of issue 14 next to its baseline, measured in one run on
 * one private redis-server, as its "Done when" asks:
 * 1-3. `zoho-attach enqueue` of N link rows (rows/s, Redis bytes per waiting row, peak RSS) beside
 *      a bare BullMQ `addBulk` of the same rows, each twice, A B B A (bench/perf/backlog.ts, as
 *      `npm run bench:backlog`);
 * 4.   Redis bytes per finished row: M link rows, then M file rows (each naming one 1 KiB file),
 *      enqueued and uploaded by one worker, without
 *      BullMQ's events stream;
 * 5.   CPU per upload beside a bare BullMQ worker doing the same POST: scenario 1 of
 *      `npm run bench` (100 ms latency, limit 10), and scenario 2 (latency 0) for reference;
 * 6.   uploads/s beside the plain concurrent loop (p-limit): scenario 1.
 *
 *   npm run bench:scale                                    # 1,000,000 rows, 1,000,000 finished link rows and as many file rows, `npm run bench`'s sizes (about 20 min here)
 *   npm run bench:scale -- --quick                         # 100,000 rows, 100,000 finished, `bench:quick`'s sizes
 *   npm run bench:scale -- --rows 200000 --finished 5000   # other counts (with or without --quick)
 *   npm run bench:scale -- --cli /other/checkout/dist/cli/main.js   # measure another build
 *
 * Prints the table "Issue 14 targets"; the figures go to bench/results/scale-<time>.json, the
 * table to scale-<time>.md.
 */
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { machineInfo, snapshotCli, writeResults } from '../bench-support.js';
import {
  BACKLOG_GOALS,
  BARE_ADD_BULK,
  DEFAULT_FINISHED_ROWS,
  bestOfTwo,
  measureBareAddBulk,
  measureEnqueue,
  measureFinished,
  openBacklogWorld,
  verdict,
  writeLinkManifest,
  type EnqueueFigures,
  type FinishedFigures,
  type Goal,
} from './backlog.js';
import type { ScenarioContext } from './scenarios/context.js';
import { overhead } from './scenarios/overhead.js';
import { zohoBound } from './scenarios/zoho-bound.js';
import { FULL_SIZES, QUICK_SIZES } from './sizes.js';
import { formatTable } from './table.js';
import { startBenchRedis, type ScenarioResult, type VariantFigures } from './world.js';

/** Issue 14's upload targets, as ratios to their baselines. */
const CPU_PER_UPLOAD_GOAL: Goal = { target: 1.3, better: 'lower' };
const THROUGHPUT_GOAL: Goal = { target: 0.97, better: 'higher' };

/** Link rows enqueued and finished rows, unless given: `bench:backlog`'s, or small ones with `--quick`. */
const COUNTS = {
  full: { rows: 1_000_000, finished: DEFAULT_FINISHED_ROWS.full },
  quick: { rows: 100_000, finished: DEFAULT_FINISHED_ROWS.quick },
};

const { values } = parseArgs({
  options: {
    rows: { type: 'string' },
    finished: { type: 'string' },
    quick: { type: 'boolean' },
    cli: { type: 'string' },
  },
});
const sizes = values.quick ? QUICK_SIZES : FULL_SIZES;
const ROWS = count('--rows', values.rows, COUNTS[sizes.label].rows);
const FINISHED = count('--finished', values.finished, COUNTS[sizes.label].finished);

function count(option: string, given: string | undefined, fallback: number): number {
  const n = given === undefined ? fallback : Number(given);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${option}: a whole number above 0, not "${given}"`);
  return n;
}

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const load = () => (os.loadavg()[0] ?? 0).toFixed(2);
const started = performance.now();

// The scenarios' processes find the build under test in BENCH_ZOHO_ATTACH_CLI (see startCli). Without
// --cli they run a copy of dist/: a rebuild meanwhile cannot hand them half-written modules.
const snapshot = values.cli ? undefined : await snapshotCli();
const cli = snapshot?.cliPath ?? path.resolve(values.cli ?? '');
process.env.BENCH_ZOHO_ATTACH_CLI = cli;
log(`scale bench (${sizes.label}: ${ROWS} rows, ${FINISHED} finished) of ${values.cli ?? 'dist/ (a copy)'}`);

const redis = await startBenchRedis();
let enqueue: { za: EnqueueFigures; bare: EnqueueFigures };
let finished: FinishedFigures;
let finishedFiles: FinishedFigures;
let zohoBoundResult: ScenarioResult;
let overheadResult: ScenarioResult;
try {
  const world = await openBacklogWorld(redis);
  try {
    const manifest = path.join(world.scratch.dir, 'links.csv');
    await writeLinkManifest(manifest, ROWS);
    log(`enqueue of ${ROWS} link rows, twice each (load ${load()})`);
    const best = await bestOfTwo(
      [
        { name: 'zoho-attach enqueue', run: () => measureEnqueue(world, 'zoho-attach enqueue', cli, manifest, ROWS) },
        { name: BARE_ADD_BULK, run: () => measureBareAddBulk(world, manifest) },
      ],
      (line) => log(`  ${line}`),
    );
    enqueue = {
      za: best.get('zoho-attach enqueue') as EnqueueFigures,
      bare: best.get(BARE_ADD_BULK) as EnqueueFigures,
    };
    log(`${FINISHED} finished link rows (load ${load()})`);
    finished = await measureFinished(world, cli, 'now', FINISHED);
    log(`${FINISHED} finished file rows (load ${load()})`);
    finishedFiles = await measureFinished(world, cli, 'now', FINISHED, 'file');
  } finally {
    await world.close();
  }
  const context: ScenarioContext = { redis, sizes, log };
  log(`scenario 1, Zoho-bound (load ${load()})`);
  await redis.flush();
  zohoBoundResult = await zohoBound(context);
  log(`scenario 2, overhead (load ${load()})`);
  await redis.flush();
  overheadResult = await overhead(context);
} finally {
  await redis.stop();
  await snapshot?.remove();
}

/** The variant of a scenario named `name` (a best-of variant is named `name (best of N)`). */
function variantOf(result: ScenarioResult, name: string): VariantFigures {
  const found = result.variants.find((v) => v.variant === name || v.variant.startsWith(`${name} (`));
  if (!found) throw new Error(`scenario ${result.id} has no variant "${name}"`);
  return found;
}

/** One row of the table: a measured figure, its baseline from this run, and the goal. */
interface TargetRow {
  target: string;
  measured: number;
  baseline?: { name: string; value: number };
  unit: string;
  digits: number;
  /** Whether the goal is on the figure itself or on its ratio to the baseline. */
  judged: 'value' | 'ratio';
  goal: Goal;
}

/** Target 5 in one scenario: zoho-attach's CPU per upload beside the bare BullMQ worker's. */
function cpuPerUpload(result: ScenarioResult, setting: string): TargetRow {
  const za = variantOf(result, 'zoho-attach');
  return {
    target: `5. CPU per upload, ${setting} (${za.uploads} uploads)`,
    measured: za.cpuMsPerUpload ?? NaN,
    baseline: { name: 'bare BullMQ worker', value: variantOf(result, 'bare-bullmq').cpuMsPerUpload ?? NaN },
    unit: 'ms',
    digits: 2,
    judged: 'ratio',
    goal: CPU_PER_UPLOAD_GOAL,
  };
}

const zohoBoundZa = variantOf(zohoBoundResult, 'zoho-attach');
const rows: TargetRow[] = [
  {
    target: `1. enqueue of ${ROWS.toLocaleString('en')} link rows`,
    measured: enqueue.za.rowsPerSecond,
    baseline: { name: 'bare addBulk', value: enqueue.bare.rowsPerSecond },
    unit: 'rows/s',
    digits: 0,
    judged: 'value',
    goal: BACKLOG_GOALS.enqueueRowsPerSecond,
  },
  {
    target: '2. Redis bytes per waiting row',
    measured: enqueue.za.redisBytesPerRow,
    baseline: { name: 'bare addBulk, per job', value: enqueue.bare.redisBytesPerRow },
    unit: 'B',
    digits: 0,
    judged: 'value',
    goal: BACKLOG_GOALS.bytesPerWaitingRow,
  },
  {
    target: '3. enqueue peak RSS',
    measured: enqueue.za.peakRssMB,
    baseline: { name: 'bare addBulk', value: enqueue.bare.peakRssMB },
    unit: 'MB',
    digits: 0,
    judged: 'value',
    goal: BACKLOG_GOALS.enqueuePeakRssMB,
  },
  ...(
    [
      ['link', finished],
      ['file', finishedFiles],
    ] as const
  ).map(([kind, figures]) => ({
    target: `4. Redis bytes per finished ${kind} row (${FINISHED.toLocaleString('en')} rows, without the events stream)`,
    measured: figures.bytesPerFinishedRowWithoutEvents,
    unit: 'B',
    digits: 0,
    judged: 'value' as const,
    goal: BACKLOG_GOALS.bytesPerFinishedRow,
  })),
  cpuPerUpload(zohoBoundResult, '100 ms latency, limit 10'),
  cpuPerUpload(overheadResult, 'latency 0, for reference'),
  {
    target: `6. throughput, 100 ms latency, limit 10 (${zohoBoundZa.uploads} uploads)`,
    measured: zohoBoundZa.rate,
    baseline: { name: 'p-limit loop', value: variantOf(zohoBoundResult, 'p-limit').rate },
    unit: 'uploads/s',
    digits: 1,
    judged: 'ratio',
    goal: THROUGHPUT_GOAL,
  },
];

const judged = rows.map((row) => {
  const ratio = row.baseline ? row.measured / row.baseline.value : undefined;
  const number = (n: number) =>
    n.toLocaleString('en', { minimumFractionDigits: row.digits, maximumFractionDigits: row.digits });
  const op = row.goal.better === 'higher' ? '≥' : '≤';
  const line = (n: number) =>
    row.judged === 'ratio' ? `${op} ${n}× ${row.baseline?.name}` : `${op} ${number(n)} ${row.unit}`;
  return {
    ...row,
    ratio,
    met: verdict(row.judged === 'ratio' ? (ratio ?? NaN) : row.measured, row.goal),
    cells: [
      row.target,
      `${number(row.measured)} ${row.unit}`,
      row.baseline ? `${number(row.baseline.value)} ${row.unit} (${row.baseline.name})` : '–',
      ratio === undefined ? '–' : `×${ratio.toFixed(2)}`,
      line(row.goal.target),
      row.goal.floor === undefined ? '–' : line(row.goal.floor),
    ],
  };
});
const minutes = (performance.now() - started) / 60_000;
const table = [
  '## Issue 14 targets',
  '',
  `${sizes.label} sizes, ${ROWS.toLocaleString('en')} link rows, ${FINISHED.toLocaleString('en')} finished rows; ` +
    `every baseline measured in this run (${minutes.toFixed(1)} min, ${os.cpus().length} cores).`,
  '',
  '| target | measured | baseline (same run) | ratio | target | floor | met |',
  '|---|---|---|---|---|---|---|',
  ...judged.map((row) => `| ${[...row.cells, row.met === 'yes' ? 'yes' : `**${row.met}**`].join(' | ')} |`),
  '',
  'Target 4 has none of the three baselines (bare addBulk, bare BullMQ worker, plain loop).',
].join('\n');

console.log(`\n${formatTable([zohoBoundResult, overheadResult])}`);
console.log(table);
const file = await writeResults('scale', {
  machine: machineInfo(),
  zohoAttachCli: values.cli ?? 'dist/ (a copy)',
  sizes,
  rows: ROWS,
  finishedRows: FINISHED,
  minutes,
  enqueues: [enqueue.za, enqueue.bare],
  finished,
  finishedFiles,
  scenarios: [zohoBoundResult, overheadResult],
  targets: judged.map(({ cells: _cells, ...row }) => row),
});
await writeFile(file.replace(/\.json$/, '.md'), `${table}\n`);
console.log(`\nfigures: ${file}`);
