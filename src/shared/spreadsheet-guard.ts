/**
 * The OWASP guard against CSV formula injection, and its exact inverse. A spreadsheet runs a
 * cell that starts with `=`, `+`, `@`, a tab or a carriage return, or a `-` that is not a
 * negative number (`=HYPERLINK(…)`, `+cmd|' /c calc'!A1`, `@SUM(…)`): such a cell is written
 * with a leading `'`. Writers (report/csv.ts) guard; the manifest reader unguards, so report →
 * fix → enqueue and export → enqueue keep every value byte for byte.
 */

/** A value a spreadsheet would run, behind any number of leading `'` (so that those round-trip too). */
const RUNNABLE = /^'*(?:[=+@\t\r]|-(?!\d))/;

/** The cell as written: a leading `'` when a spreadsheet would run it. */
export function guardCell(value: string): string {
  return RUNNABLE.test(value) ? `'${value}` : value;
}

/** Undoes {@link guardCell}: the one leading `'` it added, and nothing else. */
export function unguardCell(value: string): string {
  return value.startsWith("'") && RUNNABLE.test(value.slice(1)) ? value.slice(1) : value;
}
