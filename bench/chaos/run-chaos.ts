/**
 * `npm run chaos`: the full chaos run. Prints the summary table, writes the figures as JSON
 * under bench/results/, exits 1 when the verdict failed (the run dir with the worker logs is
 * then kept and named).
 *
 *   npm run chaos                 # 3,000 rows, about 2–4 minutes
 *   npm run chaos -- --rows 500   # fewer rows
 *   npm run chaos -- --short      # the form npm test runs
 *   npm run chaos -- --cluster    # on a private 3-node Redis Cluster
 */
import { parseArgs } from 'node:util';
import { writeResults } from '../bench-support.js';
import { formatChaosSummary, runChaos } from './chaos-run.js';
import { FULL_CHAOS, SHORT_CHAOS } from './chaos-options.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string' },
    short: { type: 'boolean' },
    keep: { type: 'boolean' },
    cluster: { type: 'boolean' },
  },
});
const options = { ...(values.short ? SHORT_CHAOS : FULL_CHAOS), ...(values.rows ? { rows: Number(values.rows) } : {}) };
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

const result = await runChaos(
  { ...options, label: values.cluster ? `${options.label}-cluster` : options.label },
  { log, keepRunDir: values.keep ?? false, cluster: values.cluster ?? false },
);
console.log(`\n${formatChaosSummary(result)}\n`);
if (result.data && result.data.mismatches.length > 0)
  console.log(`first mismatches:\n  ${result.data.mismatches.join('\n  ')}\n`);
const file = await writeResults('chaos', result);
console.log(`figures written to ${file}`);
if (!result.passed) console.log(`worker logs kept in ${result.runDir}/logs`);
process.exitCode = result.passed ? 0 : 1;
