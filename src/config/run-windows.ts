/**
 * Run windows (`ZOHO_ATTACH_WINDOWS`): a timetable of how many uploads may be in flight by local
 * time, so that live integrations keep their share of Zoho's concurrency during business hours.
 *
 *   Mon-Fri 08:00-18:00=3; Sat,Sun=10; 22:00-06:00=15; *=10
 *
 * Rules are separated by `;` and tried in order; the first that covers the moment decides. A rule
 * is `[days] [HH:MM-HH:MM]=N`: days as `Mon`, `Mon-Fri` or `Sat,Sun` (every day when left out),
 * a time range in the machine's local time (`TZ`) that may run past midnight (22:00-06:00), or
 * `*` for any time. Where no rule covers the moment, `ZOHO_CONCURRENCY` applies.
 */

/** One rule of the timetable. */
export interface RunWindow {
  /** The rule as written (trimmed), for status. */
  text: string;
  /** Days it covers, 0 = Sunday … 6 = Saturday. */
  days: ReadonlySet<number>;
  /** Minutes after midnight it starts at (inclusive) and ends at (exclusive); equal: the whole day. */
  fromMinute: number;
  toMinute: number;
  /** Uploads in flight it allows. */
  concurrency: number;
}

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const ALL_DAYS: ReadonlySet<number> = new Set([0, 1, 2, 3, 4, 5, 6]);
const RULE =
  /^(?:(\*)|(?:([A-Za-z]{3}(?:\s*[-,]\s*[A-Za-z]{3})*)\s*)?(?:(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2}))?)\s*=\s*(\d+)$/;

/**
 * Reads a timetable.
 * @returns the rules, or the problems (each naming the rule at fault)
 */
export function parseRunWindows(text: string, maxConcurrency = 1000): { windows: RunWindow[]; problems: string[] } {
  const windows: RunWindow[] = [];
  const problems: string[] = [];
  for (const part of text.split(';')) {
    const rule = part.trim();
    if (rule === '') continue;
    const problem = (why: string) => problems.push(`"${rule}": ${why}`);
    const match = RULE.exec(rule);
    if (!match) {
      problem('a rule is [days] [HH:MM-HH:MM]=N, or *=N (e.g. "Mon-Fri 08:00-18:00=3")');
      continue;
    }
    const [, any, dayText, from, to, count] = match;
    if (!any && dayText === undefined && from === undefined) {
      problem('give days, a time range, or * before =');
      continue;
    }
    const days = dayText === undefined ? ALL_DAYS : parseDays(dayText);
    if (typeof days === 'string') {
      problem(days);
      continue;
    }
    const fromMinute = from === undefined ? 0 : minuteOf(from);
    const toMinute = to === undefined ? 0 : minuteOf(to);
    if (fromMinute === undefined || toMinute === undefined) {
      problem('times are HH:MM, 00:00 to 24:00');
      continue;
    }
    const concurrency = Number(count);
    if (concurrency < 1 || concurrency > maxConcurrency) {
      problem(`the number after = must be from 1 to ${maxConcurrency}`);
      continue;
    }
    windows.push({ text: rule, days, fromMinute, toMinute, concurrency });
  }
  if (windows.length === 0 && problems.length === 0) problems.push('holds no rule');
  return { windows, problems };
}

/** The rule that covers `at` (local time), or undefined when none does. */
export function windowAt(windows: readonly RunWindow[], at: Date): RunWindow | undefined {
  const minute = at.getHours() * 60 + at.getMinutes();
  const day = at.getDay();
  const yesterday = (day + 6) % 7;
  return windows.find((w) => {
    if (w.fromMinute === w.toMinute) return w.days.has(day);
    if (w.fromMinute < w.toMinute) return w.days.has(day) && minute >= w.fromMinute && minute < w.toMinute;
    // Past midnight: the evening belongs to its day, the small hours to the day before's rule.
    return (w.days.has(day) && minute >= w.fromMinute) || (w.days.has(yesterday) && minute < w.toMinute);
  });
}

function parseDays(text: string): ReadonlySet<number> | string {
  const days = new Set<number>();
  for (const piece of text.split(',')) {
    const [first, last] = piece.split('-').map((name) => DAY_NAMES.indexOf(name.trim().toLowerCase() as never));
    if (first === undefined || first < 0 || (last !== undefined && last < 0))
      return `unknown day in "${piece.trim()}": use Mon Tue Wed Thu Fri Sat Sun`;
    // Mon-Fri, or Fri-Mon across the week's end.
    for (let d = first; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === (last ?? first)) break;
    }
  }
  return days;
}

function minuteOf(time: string): number | undefined {
  const [hours, minutes] = time.split(':').map(Number) as [number, number];
  if (hours > 24 || minutes > 59 || (hours === 24 && minutes > 0)) return undefined;
  return hours * 60 + minutes;
}

/** Uploads in flight allowed at `at`: the covering window's number, else `concurrency` (`ZOHO_CONCURRENCY`). */
export function concurrencyAt(
  queue: { concurrency: number; windows?: readonly RunWindow[] | undefined },
  at: Date,
): { concurrency: number; window?: RunWindow } {
  const window = queue.windows === undefined ? undefined : windowAt(queue.windows, at);
  return window === undefined ? { concurrency: queue.concurrency } : { concurrency: window.concurrency, window };
}
