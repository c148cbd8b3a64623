/**
 * `zoho-attach plan`: what a manifest will cost before anything is uploaded — rows, bytes, API
 * calls and credits, time at the configured concurrency, and days under the org's daily credits.
 * Reads the manifest and the local files' sizes; calls neither Zoho nor Redis, and downloads no URL.
 */
import type { Config } from '../config/config.js';
import { readManifest } from '../manifest/index.js';
import { inspectSource, sourceLimitsOf } from '../sources/index.js';
import { isClassifiedError } from '../shared/errors.js';
import { targetOfFields } from '../queue/upload-job.js';
import { LOOKUP_VALUES_PER_QUERY } from '../queue/record-lookup.js';

/** What a manifest will cost. */
export interface ManifestPlan {
  /** Rows read, valid, and refused (invalid, or a local file that cannot be uploaded). */
  rows: number;
  valid: number;
  refused: number;
  /** Valid rows by kind. */
  files: number;
  urls: number;
  links: number;
  /** Bytes of the local files (URL sizes are unknown until downloaded). */
  fileBytes: number;
  /** API calls and credits (one each): one upload per valid row. */
  uploadCalls: number;
  /** Rows that name their record by a field (`lookup_field`, `lookup_value`). */
  lookupRows: number;
  /** COQL queries (one credit each) that find them: the distinct values of each module and field, 50 a query. */
  lookupQueries: number;
  /** Credits in all: uploads and look-ups. */
  credits: number;
  /** Calls only failures add: a listing before retrying an ambiguous failure, and a settle-and-verify listing after its success. */
  perAmbiguousFailure: number;
  /** Seconds at `concurrency` calls in flight of `latencyMs` each. */
  seconds: number;
  concurrency: number;
  latencyMs: number;
  /** Days of the org's credits the uploads take, when the daily credits are known. */
  days: number | undefined;
  dailyCredits: number | undefined;
  creditsSource: string | undefined;
}

/** Plans a manifest. @throws ManifestError when the manifest cannot be read at all */
export async function planManifest(
  manifestPath: string,
  baseDir: string,
  config: Config,
  latencyMs: number,
): Promise<ManifestPlan> {
  const limits = sourceLimitsOf(config.sources);
  const plan = { rows: 0, valid: 0, refused: 0, files: 0, urls: 0, links: 0, fileBytes: 0, lookupRows: 0 };
  // Distinct values per module and field: each is asked once, 50 to a query.
  const lookupValues = new Map<string, Set<string>>();
  for await (const entry of readManifest(manifestPath, { baseDir })) {
    plan.rows++;
    if (!entry.ok) {
      plan.refused++;
      continue;
    }
    const { lookup, module } = entry.row;
    if (lookup !== undefined) {
      plan.lookupRows++;
      const values = lookupValues.get(`${module}\u001f${lookup.field}`) ?? new Set<string>();
      values.add(lookup.value);
      lookupValues.set(`${module}\u001f${lookup.field}`, values);
    }
    const target = targetOfFields(entry.row.file, entry.row.linkUrl);
    if (target.kind === 'link') plan.links++;
    else if (target.kind === 'url') plan.urls++;
    else {
      try {
        plan.fileBytes += (await inspectSource({ kind: 'file', path: target.path }, limits)).size;
        plan.files++;
      } catch (error) {
        if (!isClassifiedError(error)) throw error;
        plan.refused++;
        continue;
      }
    }
    plan.valid++;
  }
  const concurrency = config.queue.concurrency;
  const uploadCalls = plan.valid;
  const lookupQueries = [...lookupValues.values()].reduce(
    (sum, values) => sum + Math.ceil(values.size / LOOKUP_VALUES_PER_QUERY),
    0,
  );
  const credits = uploadCalls + lookupQueries;
  const dailyCredits = config.credits.daily;
  return {
    ...plan,
    uploadCalls,
    lookupQueries,
    credits,
    perAmbiguousFailure: 2,
    seconds: Math.ceil((uploadCalls / concurrency) * (latencyMs / 1000)),
    concurrency,
    latencyMs,
    days: dailyCredits === undefined ? undefined : Math.max(1, Math.ceil(credits / dailyCredits)),
    dailyCredits,
    creditsSource: config.credits.source,
  };
}
