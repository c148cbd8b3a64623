/**
 * Rows that name their record by a field (`lookup_field`, `lookup_value`, e.g. a legacy key)
 * instead of its id: resolved at enqueue with COQL (contract §7), 50 values a query, before
 * anything else is done with them, since a row's identity includes its record id.
 *
 * A value that matches exactly one record gives the row that record's id; none or several make
 * the row a rejection that names the value (never a guess). Resolved ids are kept in Redis per
 * batch, module and field, so enqueueing the manifest again asks Zoho nothing; misses and
 * ambiguities are asked again (someone may have fixed them meanwhile).
 */
import type { Redis } from 'ioredis';
import { quoteValue, type ManifestRow, type RowRejection } from '../manifest/index.js';
import type { KeyNames } from '../shared/key-names.js';
import { safeErrorMessage } from '../shared/redact.js';
import { retryZohoCall } from '../zoho/retry-call.js';

/** Values per COQL query (contract §7). */
export const LOOKUP_VALUES_PER_QUERY = 50;

/** Finds records by a field's value: `ZohoClient.findRecordsByField`, its queries counted for a batch (`attributedTo`). */
export interface RecordFinder {
  findRecordsByField(module: string, field: string, values: readonly string[]): Promise<Map<string, string[]>>;
  attributedTo(batch: string): Pick<RecordFinder, 'findRecordsByField'>;
}

/** What the look-ups of an enqueue did. */
export interface LookupCounts {
  /** Rows that named their record by a field. */
  rows: number;
  /** Of those, rows given a record id. */
  resolved: number;
  /** COQL queries sent (one credit each, 50 values each; a value matching over 200 records pages). */
  queries: number;
  /** Values answered from the batch's cache, without a query. */
  cached: number;
}

/** Resolves the rows of one chunk that have a `lookup`; the others pass through untouched. */
export async function resolveLookups(
  deps: { redis: Redis; keys: KeyNames; finder: RecordFinder | undefined },
  batch: string,
  rows: ManifestRow[],
  counts: LookupCounts,
): Promise<{ rows: ManifestRow[]; rejections: RowRejection[] }> {
  const lookups = rows.filter((row) => row.lookup !== undefined);
  if (lookups.length === 0) return { rows, rejections: [] };
  counts.rows += lookups.length;

  const cacheKey = deps.keys.batchLookups(batch);
  const cacheField = (row: ManifestRow) => `${row.module}\u001f${row.lookup?.field}\u001f${row.lookup?.value}`;
  const cached = await deps.redis.hmget(cacheKey, ...lookups.map(cacheField));
  const ids = new Map<string, string[]>();
  lookups.forEach((row, i) => {
    const id = cached[i];
    if (id) ids.set(cacheField(row), [id]);
  });
  counts.cached += new Set(lookups.filter((row) => ids.has(cacheField(row))).map(cacheField)).size;

  // The rest, by module and field: one series of queries each.
  const failed = new Map<string, string>();
  const groups = new Map<string, { module: string; field: string; values: Set<string> }>();
  for (const row of lookups) {
    if (ids.has(cacheField(row))) continue;
    const { field, value } = row.lookup as { field: string; value: string };
    const group = groups.get(`${row.module}\u001f${field}`) ?? { module: row.module, field, values: new Set() };
    group.values.add(value);
    groups.set(`${row.module}\u001f${field}`, group);
  }
  for (const [groupKey, { module, field, values }] of groups) {
    if (deps.finder === undefined) {
      failed.set(groupKey, 'no Zoho client to look records up with (the library needs Zoho credentials for it)');
      continue;
    }
    // Its queries count against the batch's credits.
    const finder = deps.finder.attributedTo(batch);
    counts.queries += Math.ceil(values.size / LOOKUP_VALUES_PER_QUERY);
    try {
      const found = await retryZohoCall(() => finder.findRecordsByField(module, field, [...values]));
      for (const [value, recordIds] of found) ids.set(`${module}\u001f${field}\u001f${value}`, recordIds);
    } catch (error) {
      failed.set(groupKey, safeErrorMessage(error));
    }
  }

  const resolved: ManifestRow[] = [];
  const rejections: RowRejection[] = [];
  const toCache: string[] = [];
  for (const row of rows) {
    if (row.lookup === undefined) {
      resolved.push(row);
      continue;
    }
    const { field, value } = row.lookup;
    const reject = (code: string, reason: string, at = 'lookup_value') =>
      rejections.push({ line: row.line, field: at, code, reason: `[${code}] ${reason}`, raw: writtenRow(row) });
    const failure = failed.get(`${row.module}\u001f${field}`);
    const matches = ids.get(cacheField(row)) ?? [];
    if (failure !== undefined)
      reject('LOOKUP_FAILED', `${row.module}.${field} could not be looked up: ${failure}`, 'lookup_field');
    else if (matches.length === 0)
      reject('LOOKUP_NOT_FOUND', `${quoteValue(value)}: no ${row.module} record has ${field} = ${quoteValue(value)}`);
    else if (matches.length > 1)
      reject(
        'LOOKUP_AMBIGUOUS',
        `${quoteValue(value)}: ${matches.length} ${row.module} records have ${field} = ${quoteValue(value)} (${matches.slice(0, 5).join(', ')}${matches.length > 5 ? ', …' : ''}): give record_id instead`,
      );
    else {
      const recordId = matches[0] as string;
      toCache.push(cacheField(row), recordId);
      counts.resolved++;
      // The report keeps how the row named its record, beside the id it was found to be.
      resolved.push({ ...row, recordId, extra: { lookup_field: field, lookup_value: value, ...row.extra } });
    }
  }
  if (toCache.length > 0) await deps.redis.hset(cacheKey, ...toCache);
  return { rows: resolved, rejections };
}

/** A lookup row's fields as written, for its rejection's report line. */
function writtenRow(row: ManifestRow): Record<string, string> {
  return {
    module: row.module,
    lookup_field: row.lookup?.field ?? '',
    lookup_value: row.lookup?.value ?? '',
    ...(row.linkUrl !== undefined ? { link_url: row.linkUrl } : { file: row.file ?? '' }),
    ...(row.title !== undefined ? { title: row.title } : {}),
    ...row.extra,
  };
}

/**
 * A finder that opens its Zoho client only when a row needs it (most manifests name records by
 * id and never call Zoho at enqueue); `close()` closes the client if it was opened.
 */
export function lazyRecordFinder(
  open: () => RecordFinder & { close(): Promise<void> },
): RecordFinder & { close(): Promise<void> } {
  let client: (RecordFinder & { close(): Promise<void> }) | undefined;
  const opened = () => (client ??= open());
  return {
    findRecordsByField: (module, field, values) => opened().findRecordsByField(module, field, values),
    attributedTo: (batch) => ({
      findRecordsByField: (module, field, values) =>
        opened().attributedTo(batch).findRecordsByField(module, field, values),
    }),
    close: async () => client?.close(),
  };
}
