/**
 * JSONL bytes → lines, streaming, with a cap on a line's size: an oversized line is
 * skipped up to its end (never held in memory) and reported, and reading goes on.
 */
import { MANIFEST_LIMITS } from './limits.js';

/** One physical line: its text, or the fact that it was too large to keep. */
export type JsonlLine = { line: number; oversized: false; text: string } | { line: number; oversized: true };

const LF = 0x0a;
const CR = 0x0d;

/**
 * The lines of a JSONL file, split at LF (a CR before it is dropped), decoded as UTF-8
 * (bad bytes become U+FFFD, which row validation rejects, naming the field).
 *
 * @param chunks the bytes (byte order mark removed)
 */
export async function* readJsonlLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<JsonlLine> {
  let lineNumber = 1;
  let pieces: Buffer[] = [];
  let pieceBytes = 0;
  let oversized = false;

  const take = (): JsonlLine => {
    const result: JsonlLine = oversized
      ? { line: lineNumber, oversized: true }
      : { line: lineNumber, oversized: false, text: decodeLine(pieces) };
    lineNumber++;
    pieces = [];
    pieceBytes = 0;
    oversized = false;
    return result;
  };
  const keep = (piece: Buffer): void => {
    if (oversized) return;
    pieceBytes += piece.length;
    if (pieceBytes > MANIFEST_LIMITS.maxRowBytes) {
      oversized = true;
      pieces = [];
    } else {
      pieces.push(piece);
    }
  };

  for await (const chunk of chunks) {
    let start = 0;
    for (let end = chunk.indexOf(LF); end !== -1; end = chunk.indexOf(LF, start)) {
      keep(chunk.subarray(start, end));
      yield take();
      start = end + 1;
    }
    // Copied: a view would keep the whole chunk alive while the line is assembled.
    if (start < chunk.length) keep(Buffer.from(chunk.subarray(start)));
  }
  if (pieceBytes > 0 || oversized) yield take();
}

function decodeLine(pieces: Buffer[]): string {
  const bytes = pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
  const length = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
  return bytes.toString('utf8', 0, length);
}
