/**
 * Issue 14's memory and enqueue targets, each beside its baseline, in one run on one private
 * redis-server:
 * - `zoho-attach enqueue` of N link rows: rows/s, peak RSS, Redis bytes per waiting row;
 * - the same rows through a bare BullMQ `addBulk` (the queue's own ceiling and cost);
 * - optionally the same enqueue by another build (`--before-cli`), for a before/after ratio;
 * - finished rows: M rows enqueued and uploaded by one worker against the fake Zoho (latency 0),
 *   then Redis bytes per finished row.
 *
 *   npm run build && node --import tsx bench/perf/backlog-bench.ts [--rows 1000000] [--finished 1000000]
 *     [--finished-files]   (the finished rows as file rows, each naming one 1 KiB file, instead of link rows)
 *     [--before-cli /path/to/older/dist/cli/main.js]
 *
 * The measurements are bench/perf/backlog.ts's (`npm run bench:scale` runs them too, beside the
 * upload scenarios). Figures go to bench/results/backlog-<time>.json.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CLI_PATH, machineInfo, writeResults } from '../bench-support.js';
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
  type EnqueueVariant,
} from './backlog.js';
import { startBenchRedis } from './world.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    finished: { type: 'string', default: String(DEFAULT_FINISHED_ROWS.full) },
    'before-cli': { type: 'string' },
    // The finished rows as file rows (each naming one 1 KiB file), not link rows.
    'finished-files': { type: 'boolean' },
  },
});
const ROWS = Number(values.rows);
const FINISHED = Number(values.finished);

const redis = await startBenchRedis();
const world = await openBacklogWorld(redis);

try {
  const manifest = path.join(world.scratch.dir, 'links.csv');
  await writeLinkManifest(manifest, ROWS);
  console.log(`wrote ${ROWS} link rows`);
  const variants: EnqueueVariant[] = [
    {
      name: 'zoho-attach enqueue',
      run: () => measureEnqueue(world, 'zoho-attach enqueue', CLI_PATH, manifest, ROWS),
    },
    { name: BARE_ADD_BULK, run: () => measureBareAddBulk(world, manifest) },
  ];
  const beforeCli = values['before-cli'];
  if (beforeCli)
    variants.push({
      name: 'zoho-attach enqueue (before)',
      run: () => measureEnqueue(world, 'zoho-attach enqueue (before)', beforeCli, manifest, ROWS),
    });
  const best = await bestOfTwo(variants, (line) => console.log(line));
  const enqueues = [...best.values()];

  const kind = values['finished-files'] ? 'file' : 'link';
  const finished = [await measureFinished(world, CLI_PATH, 'now', FINISHED, kind)];
  if (beforeCli) finished.push(await measureFinished(world, beforeCli, 'before', FINISHED, kind));
  for (const f of finished) console.log(JSON.stringify(f));
  for (const f of enqueues) if (f.sampleKeys) console.log(f.variant, JSON.stringify(f.sampleKeys));

  const za = best.get('zoho-attach enqueue') as EnqueueFigures;
  const bare = best.get(BARE_ADD_BULK) as EnqueueFigures;
  console.log('\n| variant | rows/s | × bare addBulk | Redis B/waiting row | peak RSS MB | CPU µs/row |');
  console.log('|---|---|---|---|---|---|');
  for (const f of enqueues)
    console.log(
      `| ${f.variant} | ${f.rowsPerSecond.toFixed(0)} | ${(f.rowsPerSecond / bare.rowsPerSecond).toFixed(2)} | ${f.redisBytesPerRow.toFixed(0)} | ${f.peakRssMB.toFixed(0)} | ${(f.cpuMsPerRow * 1000).toFixed(1)} |`,
    );
  console.log(
    '\n| finished rows | rows | uploads/s | Redis B/finished row | without the events stream | completed jobs kept |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const f of finished)
    console.log(
      `| ${f.variant} | ${f.rows} | ${f.uploadsPerSecond.toFixed(0)} | ${f.bytesPerFinishedRow.toFixed(0)} | ${f.bytesPerFinishedRowWithoutEvents.toFixed(0)} | ${f.completedJobsKept} |`,
    );
  const now = finished[0]?.bytesPerFinishedRowWithoutEvents ?? NaN;
  console.log('\n| target | measured | met |');
  console.log('|---|---|---|');
  for (const [target, value, goal] of [
    ['enqueue ≥ 50,000 rows/s (floor 20,000)', za.rowsPerSecond, BACKLOG_GOALS.enqueueRowsPerSecond],
    ['≤ 200 B per waiting row (floor 300)', za.redisBytesPerRow, BACKLOG_GOALS.bytesPerWaitingRow],
    ['enqueue RSS ≤ 150 MB', za.peakRssMB, BACKLOG_GOALS.enqueuePeakRssMB],
    ['≤ 200 B per finished row (floor 300)', now, BACKLOG_GOALS.bytesPerFinishedRow],
  ] as const)
    console.log(`| ${target} | ${value.toFixed(0)} | ${verdict(value, goal)} |`);
  const file = await writeResults('backlog', { machine: machineInfo(), rows: ROWS, enqueues, finished });
  console.log(`\nfigures: ${file}`);
} finally {
  await world.close();
  await redis.stop();
}
