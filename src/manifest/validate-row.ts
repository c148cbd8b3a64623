/**
 * The rules a manifest row must follow, in one place for every source of rows: CSV and
 * JSONL manifests, and rows a migration script hands to the library API.
 */
import path from 'node:path';
import { MANIFEST_FIELDS, quoteValue, resolveColumns, type ManifestField, type ResolvedColumn } from './columns.js';
import { INVISIBLE_FORMAT_CHARACTER } from '../shared/invisible-characters.js';
import { MANIFEST_LIMITS } from './limits.js';
import { coqlNameProblem, coqlValueProblem } from '../shared/coql-names.js';

/** A valid manifest row. */
export interface ManifestRow {
  /** The physical line (1-based) the row starts on; for library rows, the caller's count. */
  line: number;
  /** A Zoho module API name, e.g. `Accounts`. */
  module: string;
  /**
   * The record's id: 1 to 19 digits, as a string (ids do not fit a JSON number). Empty for a row
   * that names its record by `lookup` until enqueue resolves it.
   */
  recordId: string;
  /** The record named by one of its fields instead (`lookup_field`, `lookup_value`), found with COQL at enqueue. */
  lookup?: { field: string; value: string };
  /**
   * What to upload: an absolute local path (relative paths are resolved against the base
   * folder), or an http(s) URL as written (it starts with `http://` or `https://`).
   * Exactly one of `file` and `linkUrl` is set.
   */
  file?: string;
  /** An http(s) URL to attach as a link, as written. */
  linkUrl?: string;
  /** The attachment's title, trimmed: one line, at most 255 UTF-16 code units. */
  title?: string;
  /** Every other column, by its name as written (trimmed), with its value as written. */
  extra: Record<string, string>;
}

/**
 * Why a row was rejected. `reason` does not repeat `field`: show the two as
 * `${field}: ${reason}` (e.g. `record_id: "12a" must be 1 to 19 digits`).
 */
export interface RowRejection {
  /** The physical line (1-based) the row starts on. */
  line: number;
  /** The field at fault, as named in the manifest; absent when the row as a whole is. */
  field?: string;
  reason: string;
  /** A stable code when a check beyond the manifest's refused the row (`SOURCE_NOT_FOUND`); absent for an invalid row. */
  code?: string;
  /**
   * The row's fields as written (up to the pass-through limits), so the report of a rejected
   * row shows the whole row to fix; absent when the row is not an object at all.
   */
  raw?: Record<string, string>;
}

/** One row of a manifest: valid, or rejected with the reason. */
export type ManifestRowResult = { ok: true; row: ManifestRow } | { ok: false; rejection: RowRejection };

/** A Zoho API name: letters, digits and underscores, starting with a letter. */
const MODULE_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const RECORD_ID = /^\d{1,19}$/;
/** What a spreadsheet makes of a long number it was allowed to treat as one: `4.15087E+18`. */
const SCIENTIFIC_NOTATION = /^\d(?:[.,]\d+)?e\+?\d+$/i;
/** Control characters other than tab (C0 and DEL): never meant to be in a path or a title. */
const CONTROL_CHARACTER = /[\u0000-\u0008\u000A-\u001F\u007F]/;
/** A scheme followed by `//`: the value is meant as a URL, not a path. */
const URL_WITH_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
/** Characters a URL parser would silently drop or that need percent-encoding: whitespace and controls. */
const NOT_IN_URL = /[\s\u0000-\u001F\u007F]/;

/** A value that cannot be used, with the reason (returned, not thrown, so the checks read in order). */
class Invalid {
  constructor(readonly reason: string) {}
}

/**
 * Validates one row given as a plain object: a CSV record keyed by its header, a parsed
 * JSONL line, or a row from a migration script. Anything else (an array, null, a string)
 * is rejected.
 *
 * - Keys are matched as {@link resolveColumns} says (`Record ID` names `record_id`);
 *   unknown keys become `extra`.
 * - Values are strings. Whole numbers up to 2^53 are accepted and turned into their digits
 *   (JSON writers emit ids as numbers), bigints too; `null`/`undefined`, and for the
 *   known fields an empty or blank string, mean "not given". Anything else is rejected,
 *   as is a larger number: its digits are already wrong, so it must be written as a string.
 * - Every value must be valid UTF-8 (no U+FFFD, the mark a decoder leaves for bad bytes)
 *   and at most {@link MANIFEST_LIMITS.maxFieldBytes}.
 * - Known fields are trimmed; pass-through values are kept exactly.
 *
 * The first problem found, in the order module, record_id, file/link_url, title, extras,
 * is the one reported.
 *
 * @param raw the row
 * @param line the line (or index) reported with the row and its rejection
 * @param baseDir the folder relative `file` paths resolve against
 */
export function validateRow(raw: Record<string, unknown>, line: number, baseDir: string): ManifestRowResult {
  const reject = (field: string | undefined, reason: string): ManifestRowResult => ({
    ok: false,
    rejection: {
      line,
      ...(field === undefined ? {} : { field }),
      reason,
      ...(isRecord(raw) ? { raw: writtenFields(raw) } : {}),
    },
  });

  // Library callers are not type-checked, and a JSONL line can hold any JSON value.
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    const found = raw === null ? 'null' : Array.isArray(raw) ? 'an array' : `a ${typeof raw}`;
    return reject(undefined, `the row is not an object (it is ${found}): a row is an object keyed by column name`);
  }
  const keys = Object.keys(raw);
  // Checked before anything else looks at the keys: 70,000 of them must cost nothing but this refusal.
  if (keys.length > MANIFEST_LIMITS.maxPassThroughColumns + MANIFEST_FIELDS.length) {
    return reject(
      undefined,
      `has ${keys.length} columns; a row may carry at most ${MANIFEST_LIMITS.maxPassThroughColumns} pass-through columns`,
    );
  }
  const { columns, problems } = resolveColumns(keys);
  if (problems.length > 0) return reject(undefined, problems.join('; '));

  const known: Partial<Record<ManifestField, string>> = {};
  const extra: Array<[string, string]> = [];
  for (let index = 0; index < keys.length; index++) {
    const column = columns[index] as ResolvedColumn;
    const text = readText(raw[keys[index] as string]);
    if (text instanceof Invalid) return reject(column.name, text.reason);
    if (text === undefined) continue;
    if (column.field === undefined) {
      extra.push([column.name, text]);
    } else {
      const trimmed = text.trim();
      if (trimmed !== '') known[column.field] = trimmed;
    }
  }

  const module = known.module;
  if (module === undefined) return reject('module', 'is required');
  if (!MODULE_NAME.test(module)) {
    return reject(
      'module',
      `${quoteValue(module)} is not a module API name (letters, digits and _, starting with a letter)`,
    );
  }

  const recordId = known.record_id;
  const lookupField = known.lookup_field;
  const lookupValue = known.lookup_value;
  let lookup: ManifestRow['lookup'];
  if (recordId !== undefined) {
    if (lookupField !== undefined || lookupValue !== undefined)
      return reject(
        lookupField !== undefined ? 'lookup_field' : 'lookup_value',
        'cannot be given with record_id: name the record one way',
      );
    if (!RECORD_ID.test(recordId)) return reject('record_id', recordIdProblem(recordId));
  } else if (lookupField === undefined && lookupValue === undefined) {
    return reject('record_id', 'is required (or lookup_field and lookup_value, to find the record by a field)');
  } else if (lookupField === undefined) {
    return reject(
      'lookup_field',
      `is required with lookup_value: the API name of the field holding ${quoteValue(lookupValue as string)}`,
    );
  } else if (lookupValue === undefined) {
    return reject('lookup_value', `is required with lookup_field ${quoteValue(lookupField)}`);
  } else {
    // What COQL cannot take is refused here, row by row, rather than failing a whole look-up later.
    const fieldProblem = coqlNameProblem(lookupField);
    if (fieldProblem !== undefined) return reject('lookup_field', `${quoteValue(lookupField)} ${fieldProblem}`);
    const valueProblem = coqlValueProblem(lookupValue);
    if (valueProblem !== undefined) return reject('lookup_value', `${quoteValue(lookupValue)} ${valueProblem}`);
    lookup = { field: lookupField, value: lookupValue };
  }

  const file = known.file;
  const linkUrl = known.link_url;
  if (file === undefined && linkUrl === undefined) return reject('file', 'is required (or link_url, to attach a link)');
  if (file !== undefined && linkUrl !== undefined)
    return reject('link_url', 'cannot be given with file: give exactly one of them');

  let resolvedFile: string | undefined;
  if (file !== undefined) {
    const resolved = resolveFile(file, baseDir);
    if (resolved instanceof Invalid) return reject('file', resolved.reason);
    resolvedFile = resolved;
  }
  if (linkUrl !== undefined) {
    const problem = linkUrlProblem(linkUrl);
    if (problem !== undefined) return reject('link_url', problem);
  }
  const title = known.title;
  if (title !== undefined) {
    const problem = titleProblem(title);
    if (problem !== undefined) return reject('title', problem);
  }

  if (extra.length > MANIFEST_LIMITS.maxPassThroughColumns) {
    return reject(
      undefined,
      `has ${extra.length} pass-through columns; at most ${MANIFEST_LIMITS.maxPassThroughColumns}`,
    );
  }
  const extraBytes = extra.reduce((sum, [, value]) => sum + Buffer.byteLength(value), 0);
  if (extraBytes > MANIFEST_LIMITS.maxPassThroughBytes) {
    return reject(
      undefined,
      `its pass-through columns hold ${extraBytes} bytes; at most ${MANIFEST_LIMITS.maxPassThroughBytes}`,
    );
  }
  // fromEntries defines own properties, so a `__proto__` column is just a column.
  const row: ManifestRow = { line, module, recordId: recordId ?? '', extra: Object.fromEntries(extra) };
  if (lookup !== undefined) row.lookup = lookup;
  if (resolvedFile !== undefined) row.file = resolvedFile;
  if (linkUrl !== undefined) row.linkUrl = linkUrl;
  if (title !== undefined) row.title = title;
  return { ok: true, row };
}

function isRecord(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw);
}

/** Characters of one field a rejected row keeps for its report; longer values are cut. */
const WRITTEN_FIELD_MAX_CHARACTERS = 4096;

/**
 * A rejected row's fields as text, for its report line: at most as many columns as a row may
 * have, each cut at {@link WRITTEN_FIELD_MAX_CHARACTERS} and all of them at the pass-through
 * byte limit, so a hostile row costs no more than a valid one. An object or array (JSONL) is
 * named, not serialized: it may be nested 100,000 deep.
 */
function writtenFields(raw: Record<string, unknown>): Record<string, string> {
  const fields: Array<[string, string]> = [];
  let characters = 0;
  for (const key in raw) {
    if (
      fields.length >= MANIFEST_LIMITS.maxPassThroughColumns + MANIFEST_FIELDS.length ||
      characters >= MANIFEST_LIMITS.maxPassThroughBytes
    )
      break;
    const value = raw[key];
    if (value === undefined || value === null) continue;
    const text =
      typeof value === 'string'
        ? value
        : typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint'
          ? String(value)
          : `(${describeType(value)})`;
    const kept =
      text.length > WRITTEN_FIELD_MAX_CHARACTERS
        ? `${text.slice(0, WRITTEN_FIELD_MAX_CHARACTERS)}… (cut: ${text.length} characters)`
        : text;
    characters += kept.length;
    fields.push([key.trim(), kept]);
  }
  return Object.fromEntries(fields);
}

/** A value as text, undefined when not given, or why it cannot be text. */
function readText(value: unknown): string | undefined | Invalid {
  if (value === undefined || value === null) return undefined;
  let text: string;
  if (typeof value === 'string') {
    text = value;
  } else if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return String(value);
    if (Number.isInteger(value)) {
      return new Invalid(
        `${value} is too large for a JSON number to hold exactly (its digits may already be wrong): write it as a string`,
      );
    }
    return new Invalid(`must be text or a whole number, got ${value}`);
  } else if (typeof value === 'bigint') {
    return value.toString();
  } else {
    return new Invalid(`must be text, got ${describeType(value)}`);
  }
  // A UTF-16 code unit is at most 3 UTF-8 bytes: count bytes only when the limit is in reach.
  if (
    text.length > MANIFEST_LIMITS.maxFieldBytes / 3 &&
    Buffer.byteLength(text, 'utf8') > MANIFEST_LIMITS.maxFieldBytes
  ) {
    return new Invalid(`is larger than ${MANIFEST_LIMITS.maxFieldBytes / 1024} KiB`);
  }
  if (text.includes('\uFFFD')) {
    return new Invalid(
      `is not valid UTF-8 (it holds U+FFFD, the mark of undecodable bytes): save the manifest as UTF-8`,
    );
  }
  return text;
}

function describeType(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function recordIdProblem(recordId: string): string {
  const problem = `${quoteValue(recordId)} must be 1 to 19 digits`;
  if (SCIENTIFIC_NOTATION.test(recordId)) {
    return `${problem}: a spreadsheet wrote it in scientific notation and dropped digits; format the column as text and export again`;
  }
  return problem;
}

/** An http(s) URL as written, an absolute path, or why the value is neither. */
function resolveFile(file: string, baseDir: string): string | Invalid {
  if (/^https?:/i.test(file)) {
    if (!/^https?:\/\//i.test(file))
      return new Invalid(`${quoteValue(file)} is not a URL: write it as http(s)://host/path`);
    const problem = httpUrlProblem(file);
    return problem === undefined ? file : new Invalid(problem);
  }
  if (URL_WITH_SCHEME.test(file)) {
    return new Invalid(`${quoteValue(file)}: only local paths and http(s) URLs can be uploaded`);
  }
  const control = CONTROL_CHARACTER.exec(file);
  if (control) return new Invalid(`contains ${describeCharacter(control[0])}: a path is one line of text`);
  return path.resolve(baseDir, file);
}

function linkUrlProblem(linkUrl: string): string | undefined {
  if (linkUrl.length > MANIFEST_LIMITS.maxLinkUrlLength) {
    return `is ${linkUrl.length} characters long; Zoho takes at most ${MANIFEST_LIMITS.maxLinkUrlLength}`;
  }
  if (!/^https?:\/\//i.test(linkUrl)) return `${quoteValue(linkUrl)} is not an http(s) URL`;
  return httpUrlProblem(linkUrl);
}

/** Checks a value that starts with `http://` or `https://`. */
function httpUrlProblem(url: string): string | undefined {
  // The WHATWG parser silently removes tabs and line breaks and trims: check the text as written.
  const unsafe = NOT_IN_URL.exec(url);
  if (unsafe) {
    return `${quoteValue(url)} contains ${describeCharacter(unsafe[0])}: percent-encode it (a space is %20)`;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${quoteValue(url)} is not a valid URL`;
  }
  if (parsed.username !== '' || parsed.password !== '') {
    // Rows are stored in job data, which the dashboard shows: no credentials in them.
    return 'must not contain a user name or password';
  }
  return undefined;
}

function titleProblem(title: string): string | undefined {
  // Zoho counts UTF-16 code units, as the Zoho client does (src/zoho/title.ts): an emoji is two.
  if (title.length > MANIFEST_LIMITS.maxTitleLength) {
    return `is ${title.length} characters long (an emoji counts as two); Zoho takes at most ${MANIFEST_LIMITS.maxTitleLength}`;
  }
  const control = CONTROL_CHARACTER.exec(title);
  if (control) return `contains ${describeCharacter(control[0])}: a title is one line of text`;
  const invisible = INVISIBLE_FORMAT_CHARACTER.exec(title);
  if (invisible)
    return `contains ${describeCharacter(invisible[0])}, an invisible character that can disguise what the title says`;
  return undefined;
}

/** Names a character a message points at, with its code point (it may be invisible). */
function describeCharacter(character: string): string {
  const code = character.codePointAt(0) ?? 0;
  const codePoint = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  if (character === ' ') return 'a space';
  if (character === '\n' || character === '\r') return `a line break (${codePoint})`;
  if (character === '\t') return `a tab (${codePoint})`;
  if (code === 0) return `a NUL character (${codePoint})`;
  if (code < 0x20 || code === 0x7f) return `a control character (${codePoint})`;
  return `a whitespace character (${codePoint})`;
}
