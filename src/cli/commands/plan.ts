/** `zoho-attach plan <manifest> [--latency-ms N] [--json]` */
import path from 'node:path';
import { loadConfig } from '../../config/config.js';
import { planManifest, type ManifestPlan } from '../../plan/plan-manifest.js';
import { formatBytes, formatDuration } from '../../shared/units.js';
import { EXIT, UsageError, intOption, parseOptions, println, type CliDeps, type Command } from '../command.js';

/** Zoho's upload latency when none is given: about half a second a call (README, "Scaling out"). */
const DEFAULT_LATENCY_MS = 500;

export const planCommand: Command = {
  summary: 'what a manifest will cost before it is enqueued: rows, bytes, API calls and credits, time, days of credits',
  usage: `zoho-attach plan <manifest> [--latency-ms N] [--json]

Reads the manifest and the sizes of its local files (no Zoho call, no Redis, no URL downloaded) and
prints: the rows (valid and refused), the bytes, the API calls and credits the uploads spend (one
each; an ambiguous failure adds up to two listings), how long they take at ZOHO_CONCURRENCY calls
in flight of --latency-ms each (default ${DEFAULT_LATENCY_MS}), and how many days of the org's credits they need:
ZOHO_DAILY_CREDITS, or ZOHO_EDITION (free|standard|professional|enterprise|ultimate) with ZOHO_USERS.`,
  async run(argv, deps) {
    const { values, positionals } = parseOptions(
      argv,
      { 'latency-ms': { type: 'string' }, json: { type: 'boolean' } },
      true,
    );
    if (positionals.length !== 1) throw new UsageError('plan takes exactly one manifest path');
    const latencyMs = intOption('latency-ms', values['latency-ms'], 1, 600_000) ?? DEFAULT_LATENCY_MS;
    const manifestPath = path.resolve(deps.cwd, positionals[0] as string);
    const plan = await planManifest(
      manifestPath,
      path.dirname(manifestPath),
      loadConfig(deps.env, deps.cwd),
      latencyMs,
    );
    if (values.json) println(deps.stdout, JSON.stringify(plan, null, 2));
    else printPlan(plan, deps);
    return EXIT.OK;
  },
};

function printPlan(p: ManifestPlan, deps: CliDeps): void {
  println(
    deps.stdout,
    `rows:     ${p.rows} (${p.valid} to upload: ${p.files} files, ${p.urls} URLs, ${p.links} links; ${p.refused} refused — \`enqueue --dry-run\` says why)`,
  );
  println(
    deps.stdout,
    `bytes:    ${formatBytes(p.fileBytes)} in local files${p.urls > 0 ? ` (the ${p.urls} URLs' sizes are known once downloaded)` : ''}`,
  );
  println(
    deps.stdout,
    `calls:    ${p.uploadCalls} uploads = ${p.uploadCalls} API credits; each ambiguous failure adds up to ${p.perAmbiguousFailure} listings`,
  );
  if (p.lookupRows > 0)
    println(
      deps.stdout,
      `lookups:  ${p.lookupRows} rows name their record by a field: ${p.lookupQueries} COQL queries (50 values each) = ${p.lookupQueries} API credits, spent at enqueue; ${p.credits} credits in all`,
    );
  println(
    deps.stdout,
    `time:     about ${formatDuration(p.seconds)} at ${p.concurrency} in flight (ZOHO_CONCURRENCY) and ${p.latencyMs} ms a call (--latency-ms)`,
  );
  println(
    deps.stdout,
    p.days === undefined
      ? 'days:     unknown: set ZOHO_DAILY_CREDITS, or ZOHO_EDITION and ZOHO_USERS'
      : `days:     ${p.days} of ${p.dailyCredits} credits a day (${p.creditsSource}), if nothing else spends them`,
  );
}
