/**
 * Reading a manifest file (CSV or JSONL) as a stream of validated rows and rejections.
 */
import fs from 'node:fs';
import path from 'node:path';
import { likelyMisspelledField, quoteValue, resolveColumns } from './columns.js';
import { unguardCell } from '../shared/spreadsheet-guard.js';
import { readCsvRecords, type CsvRecord } from './csv-records.js';
import { readJsonlLines } from './jsonl-lines.js';
import { ManifestError, ManifestErrorCode } from './manifest-error.js';
import { MANIFEST_LIMITS } from './limits.js';
import { validateRow, type ManifestRowResult } from './validate-row.js';

/** The formats a manifest can be in. */
export type ManifestFormat = 'csv' | 'jsonl';

/** Options for {@link readManifest}. */
export interface ReadManifestOptions {
  /**
   * The folder relative `file` paths resolve against.
   * @defaultValue the manifest's folder
   */
  baseDir?: string;
  /**
   * The manifest's format, whatever its name.
   * @defaultValue from the extension (`.csv`; `.jsonl`, `.ndjson`); for any other name,
   * JSONL when the first non-blank character is `{`, else CSV
   */
  format?: ManifestFormat;
}

/**
 * Reads a manifest, streaming: rows are yielded as the file is read, and the next part of
 * the file is read only once they are consumed, so memory does not grow with its length.
 *
 * Each row is yielded valid (`ok: true`) or rejected with its line and reason (see
 * {@link validateRow} for the rules); a rejection never stops the reading. Blank lines are
 * skipped. A UTF-8 byte order mark is ignored. Line numbers are physical lines (1-based);
 * a CSV row whose quoted fields span lines has the line it starts on.
 *
 * CSV: a header row names the columns (matched leniently: `Record ID` is `record_id`);
 * `module` and `record_id` columns and a `file` or `link_url` column are required. A row
 * with more or fewer fields than the header is rejected. Quotes are read as spreadsheets
 * write them, and a stray quote inside a field is kept as a character.
 *
 * JSONL: one object per line with the same keys. A line that is not valid JSON, not an
 * object, or larger than `MANIFEST_LIMITS.maxRowBytes` is rejected.
 *
 * Nothing is opened until iteration starts, and breaking out of the loop closes the file.
 *
 * @param filePath the manifest
 * @throws ManifestError (from the iteration, never from the call) when the manifest cannot
 *   be used or read any further: `MANIFEST_UNREADABLE`, `MANIFEST_UNSUPPORTED_ENCODING`,
 *   `MANIFEST_BAD_HEADER` (CSV), `MANIFEST_MALFORMED` (CSV: after every row before the
 *   problem was yielded). Nothing else is thrown, whatever the file holds.
 */
export async function* readManifest(
  filePath: string,
  options: ReadManifestOptions = {},
): AsyncGenerator<ManifestRowResult, void, undefined> {
  const baseDir = path.resolve(options.baseDir ?? path.dirname(path.resolve(filePath)));
  const chunks = readFileChunks(filePath);
  try {
    const head = await readHead(chunks, filePath);
    const format = options.format ?? formatFromExtension(filePath) ?? sniffFormat(head);
    const body = prepend(head, chunks);
    if (format === 'csv') {
      yield* readCsvRows(body, filePath, baseDir);
    } else {
      yield* readJsonlRows(body, baseDir);
    }
  } finally {
    // Closes the file, also when the consumer stops early or the format was refused.
    await chunks.return();
  }
}

/** How many bytes may be looked at to find the first non-blank character. */
const SNIFF_BYTES = 64 * 1024;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const UTF16_BOMS = [Buffer.from([0xff, 0xfe]), Buffer.from([0xfe, 0xff])];
const BLANK_BYTES = new Set([0x20, 0x09, 0x0d, 0x0a]);

/** The file's bytes, with read errors turned into `MANIFEST_UNREADABLE`. */
async function* readFileChunks(filePath: string): AsyncGenerator<Buffer, void, undefined> {
  try {
    for await (const chunk of fs.createReadStream(filePath)) yield chunk as Buffer;
  } catch (error) {
    throw new ManifestError({
      code: ManifestErrorCode.UNREADABLE,
      filePath,
      message: `cannot read the manifest: ${describeReadError(error)}`,
      cause: error,
    });
  }
}

function describeReadError(error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'it is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

/**
 * The first bytes of the file, enough to see its byte order mark and its first non-blank
 * character, without the UTF-8 byte order mark.
 */
async function readHead(chunks: AsyncIterator<Buffer>, filePath: string): Promise<Buffer> {
  let head = Buffer.alloc(0);
  while (head.length < UTF8_BOM.length || (firstNonBlankByte(head) === undefined && head.length < SNIFF_BYTES)) {
    const next = await chunks.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value]);
  }
  if (UTF16_BOMS.some((bom) => startsWith(head, bom))) {
    throw new ManifestError({
      code: ManifestErrorCode.UNSUPPORTED_ENCODING,
      filePath,
      message: 'the file is UTF-16 (it starts with a UTF-16 byte order mark); save the manifest as UTF-8',
    });
  }
  return startsWith(head, UTF8_BOM) ? head.subarray(UTF8_BOM.length) : head;
}

function startsWith(bytes: Buffer, prefix: Buffer): boolean {
  return bytes.length >= prefix.length && bytes.subarray(0, prefix.length).equals(prefix);
}

function firstNonBlankByte(bytes: Buffer): number | undefined {
  const start = startsWith(bytes, UTF8_BOM) ? UTF8_BOM.length : 0;
  for (let i = start; i < bytes.length; i++) {
    if (!BLANK_BYTES.has(bytes[i] as number)) return bytes[i];
  }
  return undefined;
}

function formatFromExtension(filePath: string): ManifestFormat | undefined {
  const extension = path.extname(filePath).toLowerCase();
  if (extension === '.csv') return 'csv';
  if (extension === '.jsonl' || extension === '.ndjson') return 'jsonl';
  return undefined;
}

function sniffFormat(head: Buffer): ManifestFormat {
  return firstNonBlankByte(head) === '{'.charCodeAt(0) ? 'jsonl' : 'csv';
}

/** The bytes already read, then the rest. */
async function* prepend(head: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer, void, undefined> {
  if (head.length > 0) yield head;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

async function* readCsvRows(
  body: AsyncIterable<Buffer>,
  filePath: string,
  baseDir: string,
): AsyncGenerator<ManifestRowResult> {
  let header: string[] | undefined;
  for await (const record of readCsvRecords(body, filePath)) {
    // Cells a spreadsheet-safe export guarded with a leading ' get it taken off (see report/csv.ts).
    const fields = record.fields.map(unguardCell);
    if (header === undefined) {
      header = checkHeader({ ...record, fields }, filePath);
    } else if (fields.length !== header.length) {
      // The cells there are, under their columns' names: the report shows what the row holds.
      const raw = Object.fromEntries(
        fields.slice(0, header.length).map((value, i) => [(header as string[])[i]?.trim() ?? '', value]),
      );
      yield {
        ok: false,
        rejection: { line: record.line, reason: fieldCountProblem(fields.length, header.length), raw },
      };
    } else {
      yield validateRow(toRawRow(header, fields), record.line, baseDir);
    }
  }
  if (header === undefined) {
    throw new ManifestError({
      code: ManifestErrorCode.BAD_HEADER,
      filePath,
      message: 'the manifest is empty: a CSV manifest starts with a header row',
    });
  }
}

/**
 * The header's column names, checked: every problem is reported at once.
 * @throws ManifestError `MANIFEST_BAD_HEADER`
 */
function checkHeader(record: CsvRecord, filePath: string): string[] {
  const names = record.fields;
  const problems: string[] = [];
  if (names.length > MANIFEST_LIMITS.maxColumns) {
    problems.push(`more than ${MANIFEST_LIMITS.maxColumns} columns`);
  } else {
    const { columns, problems: nameProblems } = resolveColumns(names);
    problems.push(...nameProblems);
    const fields = new Set(columns.map((column) => column.field));
    // "no title column" is no problem (title is optional), but "titel" is worth a question.
    const meant = (field: string) => {
      const typo = columns.find((column) => column.field === undefined && likelyMisspelledField(column.name) === field);
      return typo ? ` (did you mean ${quoteValue(typo.name)} to be ${field}?)` : '';
    };
    if (!fields.has('module')) problems.push(`no module column${meant('module')}`);
    if (!fields.has('record_id') && !(fields.has('lookup_field') && fields.has('lookup_value')))
      problems.push(`no record_id column (nor lookup_field and lookup_value)${meant('record_id')}`);
    if (!fields.has('file') && !fields.has('link_url'))
      problems.push(`no file or link_url column${meant('file') || meant('link_url')}`);
  }
  if (problems.length === 0) return names;

  const shown = names.slice(0, 20).map(quoteValue).join(', ') + (names.length > 20 ? ', …' : '');
  const singleColumnHint =
    names.length === 1 && /[;\t|]/.test(names[0] as string)
      ? ' (one column only: are the columns separated by something other than commas?)'
      : '';
  throw new ManifestError({
    code: ManifestErrorCode.BAD_HEADER,
    filePath,
    line: record.line,
    message: `bad header: ${problems.join('; ')}. Columns found: ${shown}${singleColumnHint}`,
  });
}

function fieldCountProblem(found: number, expected: number): string {
  if (found < expected) return `the row has ${found} fields and the header ${expected}: is a field missing?`;
  // The parser stops splitting after maxColumns + 1 fields: that many means "more".
  const count = found > MANIFEST_LIMITS.maxColumns ? `more than ${MANIFEST_LIMITS.maxColumns}` : String(found);
  return `the row has ${count} fields and the header ${expected}: is a comma in a value not quoted?`;
}

/** A CSV record keyed by its header. No prototype: a `__proto__` column stays a column. */
function toRawRow(header: readonly string[], fields: readonly string[]): Record<string, unknown> {
  const raw = Object.create(null) as Record<string, unknown>;
  header.forEach((name, index) => {
    raw[name] = fields[index];
  });
  return raw;
}

async function* readJsonlRows(body: AsyncIterable<Buffer>, baseDir: string): AsyncGenerator<ManifestRowResult> {
  for await (const line of readJsonlLines(body)) {
    if (line.oversized) {
      yield {
        ok: false,
        rejection: {
          line: line.line,
          reason: `the line is larger than ${MANIFEST_LIMITS.maxRowBytes / 1024 / 1024} MiB`,
        },
      };
    } else if (line.text.trim() !== '') {
      yield parseJsonlRow(line.text, line.line, baseDir);
    }
  }
}

/** Error messages from JSON.parse can quote the input: keep them short. */
const JSON_ERROR_MAX_LENGTH = 200;

function parseJsonlRow(text: string, line: number, baseDir: string): ManifestRowResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = (error as Error).message.slice(0, JSON_ERROR_MAX_LENGTH);
    return { ok: false, rejection: { line, reason: `not valid JSON: ${detail}` } };
  }
  // validateRow rejects anything that is not an object.
  return validateRow(value as Record<string, unknown>, line, baseDir);
}
