/**
 * Progress on a terminal: one line redrawn in place (silent elsewhere: logs and pipes get the
 * final summary instead of a stream of carriage returns), and a block of lines redrawn in place.
 */

/** Redraws at most this often. */
const MIN_REDRAW_MS = 100;

/** A line of progress on a terminal stream. */
export class ProgressLine {
  private lastDraw = 0;
  private drawn = false;

  constructor(private readonly stream: NodeJS.WritableStream & { isTTY?: boolean }) {}

  /** Shows `text` (throttled). */
  update(text: string): void {
    if (!this.stream.isTTY) return;
    const now = Date.now();
    if (now - this.lastDraw < MIN_REDRAW_MS) return;
    this.lastDraw = now;
    this.stream.write(`\r\u001b[2K${text}`);
    this.drawn = true;
  }

  /** Ends the line so that later output starts on a fresh one. Idempotent. */
  done(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}

/** A block of lines: each draw replaces the last one in place on a terminal; elsewhere it is appended as plain lines. */
export class LineBlock {
  private linesDrawn = 0;

  /** @param inPlace redraw in place @defaultValue whether `stream` is a terminal */
  constructor(
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean },
    readonly inPlace: boolean = stream.isTTY === true,
  ) {}

  draw(lines: readonly string[]): void {
    if (this.inPlace && this.linesDrawn > 0) this.stream.write(`\u001b[${this.linesDrawn}A`);
    for (const line of lines) this.stream.write(`${this.inPlace ? '\u001b[2K' : ''}${line}\n`);
    this.linesDrawn = lines.length;
  }
}
