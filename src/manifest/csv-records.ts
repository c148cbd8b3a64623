/**
 * CSV bytes → records with the physical line each starts on, through csv-parse, streaming.
 *
 * csv-parse is driven chunk by chunk rather than piped, for three reasons:
 * - a parse error destroys a piped parser, and with it the records it had parsed but not yet
 *   handed over; `on_record` hands each one over synchronously, so none is lost;
 * - the next chunk is read only when the consumer has taken every record of this one
 *   (backpressure: memory holds one chunk's records, whatever the file's size);
 * - its `info.lines` is the line a record *ends* on and counts a CRLF inside quotes twice,
 *   so start lines are counted here from the line breaks inside each record's fields.
 */
import { CsvError, Parser } from 'csv-parse';
import { MANIFEST_LIMITS } from './limits.js';
import { ManifestError, ManifestErrorCode } from './manifest-error.js';

/** A non-blank CSV record. */
export interface CsvRecord {
  /** The physical line (1-based) the record starts on. */
  line: number;
  fields: string[];
}

/**
 * The records of a CSV, skipping blank ones (no field with anything but whitespace: blank
 * lines, and rows of empty cells that spreadsheets leave behind).
 *
 * Quotes are relaxed, as spreadsheets read them: a quote inside an unquoted field
 * (`12" vinyl`) or after a closing quote (`"a"b`) is kept as a character. A record may have
 * any number of fields up to `maxColumns + 1` (the last then holds the rest of the line:
 * a flood of commas costs one field, not millions).
 *
 * @param chunks the bytes (UTF-8, byte order mark removed)
 * @param filePath named in errors
 * @throws ManifestError `MANIFEST_MALFORMED` when a quoted field is never closed or a record
 *   exceeds `maxRowBytes`: csv-parse cannot tell where the next record starts. Every
 *   record before it has been yielded.
 */
export async function* readCsvRecords(chunks: AsyncIterable<Buffer>, filePath: string): AsyncGenerator<CsvRecord> {
  let nextRecordLine = 1;
  const parsed: CsvRecord[] = [];
  const parser = new Parser({
    relax_quotes: true,
    // Rows with the wrong number of fields are rejected by the reader, with a better reason.
    relax_column_count: true,
    // Blank lines are skipped below, after their line is counted.
    skip_empty_lines: false,
    // Explicit, so a file mixing line endings still splits at every one of them.
    record_delimiter: ['\r\n', '\n', '\r'],
    max_record_size: MANIFEST_LIMITS.maxRowBytes,
    ignore_last_delimiters: MANIFEST_LIMITS.maxColumns + 1,
    on_record: (fields: string[]) => {
      const line = nextRecordLine;
      nextRecordLine += 1 + countLineBreaks(fields);
      if (!isBlank(fields)) parsed.push({ line, fields });
      return null;
    },
  });
  // Errors are read from the write and end callbacks; without a listener the same error,
  // emitted as an event too, would be an uncaught exception.
  parser.on('error', () => {});
  try {
    for await (const chunk of chunks) {
      const error = await write(parser, chunk);
      yield* parsed.splice(0);
      if (error) throw malformed(error, filePath, nextRecordLine);
    }
    const error = await end(parser);
    yield* parsed.splice(0);
    if (error) throw malformed(error, filePath, nextRecordLine);
  } finally {
    parser.destroy();
  }
}

function write(parser: Parser, chunk: Buffer): Promise<Error | undefined> {
  return new Promise((resolve) => parser.write(chunk, (error) => resolve(error ?? undefined)));
}

function end(parser: Parser): Promise<Error | undefined> {
  return new Promise((resolve) => parser.end((error?: Error | null) => resolve(error ?? undefined)));
}

/** The reader's error for a csv-parse failure in the record that starts on `line`. */
function malformed(error: Error, filePath: string, line: number): ManifestError {
  const code = error instanceof CsvError ? error.code : undefined;
  let message: string;
  if (code === 'CSV_QUOTE_NOT_CLOSED') {
    message = 'a quoted field in the row that starts here is never closed (the file ends inside it)';
  } else if (code === 'CSV_MAX_RECORD_SIZE') {
    message =
      `the row that starts here is larger than ${MANIFEST_LIMITS.maxRowBytes / 1024 / 1024} MiB; ` +
      'the rest of the file cannot be read (an unclosed quote makes everything after it one field)';
  } else {
    message = `the CSV cannot be parsed from the row that starts here: ${error.message}`;
  }
  return new ManifestError({ code: ManifestErrorCode.MALFORMED, filePath, line, message, cause: error });
}

/** Line breaks inside fields (only quoted fields have them); CRLF is one, as is a lone CR or LF. */
function countLineBreaks(fields: readonly string[]): number {
  let breaks = 0;
  for (const field of fields) {
    if (!field.includes('\n') && !field.includes('\r')) continue;
    for (let i = 0; i < field.length; i++) {
      const char = field[i];
      if (char === '\n' || (char === '\r' && field[i + 1] !== '\n')) breaks++;
    }
  }
  return breaks;
}

function isBlank(fields: readonly string[]): boolean {
  return fields.every((field) => field.trim() === '');
}
