/**
 * Column names: which manifest field a CSV header cell or a JSONL/library key names. One
 * rule for every source of rows, so `Record ID` means the same in a CSV header, a JSONL
 * object and a row given through the library API.
 */

/**
 * The fields a manifest row is made of; every other column is pass-through `extra`. A row names
 * its record by `record_id`, or by `lookup_field` and `lookup_value` (a field of the record, such
 * as a legacy key, found with COQL at enqueue).
 */
export const MANIFEST_FIELDS = [
  'module',
  'record_id',
  'file',
  'link_url',
  'title',
  'lookup_field',
  'lookup_value',
] as const;

/** One of {@link MANIFEST_FIELDS}, spelled as in manifests and rejections. */
export type ManifestField = (typeof MANIFEST_FIELDS)[number];

/** A column name, and the manifest field it names (undefined for a pass-through column). */
export interface ResolvedColumn {
  /** The name as written, trimmed: the key it gets in `extra`. */
  name: string;
  field: ManifestField | undefined;
}

/**
 * What a name is compared by: lower-cased, without whitespace, `_` or `-`. Exported
 * spreadsheets and scripts spell columns every way (`Record ID`, `record-id`, `recordId`).
 */
function comparableName(name: string): string {
  return name.toLowerCase().replace(/[\s_-]+/g, '');
}

const FIELD_BY_COMPARABLE_NAME = new Map<string, ManifestField>(
  MANIFEST_FIELDS.map((field) => [comparableName(field), field]),
);

/**
 * Resolves column names (a CSV header, or an object's keys) to manifest fields.
 *
 * Lenient on spelling: names are trimmed and compared ignoring case, whitespace, `_` and
 * `-`, so `Record ID`, `record-id`, `recordId` and `record_id` all name `record_id`.
 * Strict on ambiguity: two names that compare equal are a problem (even two pass-through
 * columns, e.g. `Notes` and `notes`), as are an empty name and a name that is not valid
 * UTF-8 (it holds U+FFFD, the replacement character a decoder puts for bad bytes).
 *
 * @returns the columns in order, and every problem found (empty when the names are usable)
 */
export function resolveColumns(names: readonly string[]): ColumnResolution {
  // Every row of a CSV, and most rows of a JSONL file, have the same names as the last one.
  if (lastResolved !== undefined && sameNames(names, lastResolved.names)) return lastResolved.resolution;
  const resolution = resolveColumnsAnew(names);
  lastResolved = { names: [...names], resolution };
  return resolution;
}

/** The result of {@link resolveColumns}. Shared between calls: do not modify. */
export interface ColumnResolution {
  readonly columns: readonly ResolvedColumn[];
  readonly problems: readonly string[];
}

let lastResolved: { names: readonly string[]; resolution: ColumnResolution } | undefined;

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, index) => name === b[index]);
}

function resolveColumnsAnew(names: readonly string[]): ColumnResolution {
  const columns: ResolvedColumn[] = [];
  const problems: string[] = [];
  const firstByComparableName = new Map<string, string>();
  names.forEach((written, index) => {
    const name = written.trim();
    if (name === '') {
      problems.push(`column ${index + 1} has no name`);
    } else if (name.includes('\uFFFD')) {
      problems.push(`column name ${quoteValue(name)} is not valid UTF-8`);
    }
    const comparable = comparableName(name);
    const field = FIELD_BY_COMPARABLE_NAME.get(comparable);
    const earlier = firstByComparableName.get(comparable);
    if (name !== '' && earlier !== undefined) {
      problems.push(
        `columns ${quoteValue(earlier)} and ${quoteValue(name)} are the same column${field ? ` (${field})` : ''}`,
      );
    }
    firstByComparableName.set(comparable, earlier ?? name);
    columns.push({ name, field });
  });
  return { columns, problems };
}

/** Characters of a value shown in a message: enough to find it, not a whole 64 KiB field. */
const QUOTED_VALUE_MAX_LENGTH = 60;

/** A value for a message: JSON-quoted (so control characters show), cut if long. */
export function quoteValue(value: string): string {
  if (value.length <= QUOTED_VALUE_MAX_LENGTH) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, QUOTED_VALUE_MAX_LENGTH))}… (${value.length} characters)`;
}

/**
 * The manifest field a pass-through column name was probably meant to be (`titel` → title,
 * `recordid` is not asked: it already names record_id), for a "did you mean" warning. A typo
 * in a column name is otherwise silent: the column is carried along and the field stays empty.
 * @returns the field, or undefined when no field is close (one edit for short names, two for longer)
 */
export function likelyMisspelledField(name: string): ManifestField | undefined {
  const comparable = comparableName(name);
  if (comparable.length < 3 || FIELD_BY_COMPARABLE_NAME.has(comparable)) return undefined;
  for (const [fieldName, field] of FIELD_BY_COMPARABLE_NAME) {
    const allowed = fieldName.length <= 5 ? 1 : 2;
    if (editDistance(comparable, fieldName, allowed) <= allowed) return field;
  }
  return undefined;
}

/**
 * Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`: the optimal string
 * alignment distance, so `titel` is one edit from `title`. Gives up above `limit`.
 */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, (before[j - 2] as number) + 1);
      current.push(best);
    }
    [before, previous] = [previous, current];
  }
  return previous[b.length] as number;
}
