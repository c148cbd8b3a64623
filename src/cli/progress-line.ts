/**
 * A one-line progress display: redrawn in place on a terminal, silent elsewhere (logs and
 * pipes get the final summary instead of a stream of carriage returns).
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
