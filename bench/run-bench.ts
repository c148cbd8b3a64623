/**
 * `npm run bench`: the performance benchmark. Runs each scenario against the fake Zoho and a
 * private redis-server, compares zoho-attach with the baselines in bench/baselines/, prints
 * a table and writes the figures to bench/results/bench-<time>.json. Never part of `npm test`.
 *
 *   npm run bench                      # the full run (about 10 minutes on 2 cores)
 *   npm run bench -- --quick           # smaller counts (a couple of minutes)
 *   npm run bench -- --only 1,5        # some scenarios
 *   npm run bench -- --wait-quiet      # first wait (up to 20 min) for the 1-min load average ≤ 1.5
 *   npm run bench -- --cpu-prof        # zoho-attach processes write V8 CPU profiles to bench/results/profiles/
 *   npm run bench -- --env LOG_LEVEL=warn   # more environment for zoho-attach processes (experiments)
 *   npm run bench -- --keep            # keep the scratch folders (files, manifests, every process's log)
 *   npm run bench -- --cli ../old/dist/cli/main.js   # measure another build of zoho-attach (before/after)
 *   npm run bench -- --only 1 --repeat 8   # each scenario 8 times; medians, and ratios taken within each run
 *
 * Scenarios: 1 Zoho-bound, 2 overhead, 3 large files, 4 huge manifest, 5 scale-out,
 * 6 over-configured concurrency (ZOHO_CONCURRENCY above what Zoho allows).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { machineInfo, RESULTS_DIR, sleep, snapshotCli, writeResults } from './bench-support.js';
import type { ScenarioContext } from './perf/scenarios/context.js';
import { hugeManifest } from './perf/scenarios/huge-manifest.js';
import { largeFiles } from './perf/scenarios/large-files.js';
import { overConfigured } from './perf/scenarios/over-configured.js';
import { overhead } from './perf/scenarios/overhead.js';
import { scaleOut } from './perf/scenarios/scale-out.js';
import { zohoBound } from './perf/scenarios/zoho-bound.js';
import { FULL_SIZES, QUICK_SIZES } from './perf/sizes.js';
import { formatMedians } from './perf/medians.js';
import { formatMarkdown, formatTable } from './perf/table.js';
import { startBenchRedis, type ScenarioResult } from './perf/world.js';

const SCENARIOS: Record<string, (context: ScenarioContext) => Promise<ScenarioResult>> = {
  '1': zohoBound,
  '2': overhead,
  '3': largeFiles,
  '4': hugeManifest,
  '5': scaleOut,
  '6': overConfigured,
};

/** The load average a measurement should start under, and how long to wait for it. */
const QUIET_LOAD = 1.5;
const QUIET_WAIT_MS = 20 * 60_000;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    only: { type: 'string' },
    'wait-quiet': { type: 'boolean' },
    'cpu-prof': { type: 'boolean' },
    env: { type: 'string', multiple: true },
    keep: { type: 'boolean' },
    cli: { type: 'string' },
    repeat: { type: 'string', default: '1' },
  },
});
const repeat = Number(values.repeat);
if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat: a whole number ≥ 1, not "${values.repeat}"`);
const sizes = values.quick ? QUICK_SIZES : FULL_SIZES;
const chosen = values.only ? values.only.split(',').map((s) => s.trim()) : Object.keys(SCENARIOS);
for (const id of chosen) if (!SCENARIOS[id]) throw new Error(`--only: no scenario "${id}" (1-6)`);

if (values.keep) process.env.BENCH_KEEP_SCRATCH = '1';
if (values.cli) process.env.BENCH_ZOHO_ATTACH_CLI = path.resolve(values.cli);
if (values.env) {
  const env = Object.fromEntries(
    values.env.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
  process.env.BENCH_ZOHO_ATTACH_ENV = JSON.stringify(env);
}
if (values['cpu-prof']) {
  process.env.BENCH_CPU_PROF_DIR = path.join(RESULTS_DIR, 'profiles');
  await mkdir(process.env.BENCH_CPU_PROF_DIR, { recursive: true });
}

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const load = () => os.loadavg()[0] ?? 0;

if (values['wait-quiet']) {
  const deadline = Date.now() + QUIET_WAIT_MS;
  while (load() > QUIET_LOAD && Date.now() < deadline) {
    log(`load average ${load().toFixed(2)} > ${QUIET_LOAD}: waiting`);
    await sleep(60_000);
  }
}

const machine = {
  ...machineInfo(),
  nproc: execFileSync('nproc', { encoding: 'utf8' }).trim(),
  free: execFileSync('free', ['-h'], { encoding: 'utf8' }).trim(),
};
if (values.cli) log(`zoho-attach under test: ${process.env.BENCH_ZOHO_ATTACH_CLI}`);
log(
  `bench (${sizes.label}) on ${machine.nproc} cores, node ${machine.node}, redis ${machine.redis}; load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);

// The zoho-attach processes run a copy of dist/: a rebuild meanwhile (a colleague's `npm test`) cannot hand them half-written modules.
const snapshot = values.cli ? undefined : await snapshotCli();
if (snapshot) process.env.BENCH_ZOHO_ATTACH_CLI = snapshot.cliPath;
const redis = await startBenchRedis();
const results: ScenarioResult[] = [];
const loads: Record<string, number[]> = {};
try {
  for (let round = 1; round <= repeat; round++) {
    for (const id of chosen) {
      const run = SCENARIOS[id] as (context: ScenarioContext) => Promise<ScenarioResult>;
      const label = repeat > 1 ? `${id} (run ${round} of ${repeat})` : id;
      loads[label] = os.loadavg();
      log(`scenario ${label} (load ${load().toFixed(2)})`);
      await redis.flush();
      results.push(await run({ redis, sizes, log }));
    }
  }
} finally {
  await redis.stop();
  await snapshot?.remove();
}

console.log(`\n${formatTable(results)}`);
const medians = repeat > 1 ? formatMedians(results) : '';
if (medians) console.log(medians);
const file = await writeResults('bench', {
  machine,
  sizes,
  zohoAttachCli: values.cli ?? 'dist/ (a copy)',
  repeat,
  loadAtScenarioStart: loads,
  results,
});
const markdown = file.replace(/\.json$/, '.md');
await writeFile(markdown, `${formatMarkdown(results)}\n${medians ? `\n\`\`\`\n${medians}\`\`\`\n` : ''}`);
console.log(`figures written to ${file} (tables for BENCHMARKS.md: ${markdown})`);
