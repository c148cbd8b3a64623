import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { concurrencyAt, parseRunWindows, windowAt } from '../../src/config/run-windows.js';

/** A local time: 2026-12-07 is a Monday. */
const at = (day: number, hours: number, minutes = 0) => new Date(2026, 11, 7 + day, hours, minutes);

describe('run windows (ZOHO_ATTACH_WINDOWS)', () => {
  const { windows, problems } = parseRunWindows('Mon-Fri 08:00-18:00=3; Sat,Sun=12; 22:00-06:00=15; *=10');

  it.each([
    ['Monday 07:59', at(0, 7, 59), 10, '*=10'],
    ['Monday 05:00 (Sunday night)', at(0, 5), 15, '22:00-06:00=15'],
    ['Monday 08:00', at(0, 8), 3, 'Mon-Fri 08:00-18:00=3'],
    ['Friday 17:59', at(4, 17, 59), 3, 'Mon-Fri 08:00-18:00=3'],
    ['Friday 18:00', at(4, 18), 10, '*=10'],
    ['Friday 23:30', at(4, 23, 30), 15, '22:00-06:00=15'],
    ['Saturday 02:00 (after Friday night)', at(5, 2), 12, 'Sat,Sun=12'],
    ['Sunday 12:00', at(6, 12), 12, 'Sat,Sun=12'],
    ['Tuesday 05:59 (Monday night)', at(1, 5, 59), 15, '22:00-06:00=15'],
  ])('%s: the first rule that covers it decides', (_name, when, concurrency, rule) => {
    expect(problems).toEqual([]);
    expect(windowAt(windows, when)?.text).toBe(rule);
    expect(concurrencyAt({ concurrency: 99, windows }, when)).toMatchObject({ concurrency });
  });

  it('leaves ZOHO_CONCURRENCY where no rule covers the moment', () => {
    const weekdays = parseRunWindows('Mon-Fri 09:00-17:00=2').windows;
    expect(concurrencyAt({ concurrency: 8, windows: weekdays }, at(5, 10))).toEqual({ concurrency: 8 });
    expect(concurrencyAt({ concurrency: 8, windows: weekdays }, at(2, 10)).concurrency).toBe(2);
    // A range across the week's end.
    expect(windowAt(parseRunWindows('Fri-Mon=4').windows, at(6, 1))?.concurrency).toBe(4);
    expect(windowAt(parseRunWindows('Fri-Mon=4').windows, at(2, 1))).toBeUndefined();
  });

  it('names the rule at fault, and the variable', () => {
    expect(parseRunWindows('Mon-Fry 08:00-18:00=3; 25:00-26:00=2; =4; *=0').problems).toEqual([
      '"Mon-Fry 08:00-18:00=3": unknown day in "Mon-Fry": use Mon Tue Wed Thu Fri Sat Sun',
      '"25:00-26:00=2": times are HH:MM, 00:00 to 24:00',
      '"=4": give days, a time range, or * before =',
      '"*=0": the number after = must be from 1 to 1000',
    ]);
    expect(() => loadConfig({ ZOHO_ATTACH_WINDOWS: 'weekdays=3' })).toThrow(
      /ZOHO_ATTACH_WINDOWS: "weekdays=3": a rule is \[days\] \[HH:MM-HH:MM\]=N/,
    );
    expect(parseRunWindows('Mon 08:00 to 10:00 = 3').problems).toEqual([
      '"Mon 08:00 to 10:00 = 3": a rule is [days] [HH:MM-HH:MM]=N, or *=N (e.g. "Mon-Fri 08:00-18:00=3")',
    ]);
    expect(loadConfig({ ZOHO_ATTACH_WINDOWS: ' ; *=5 ' }).queue.windows).toHaveLength(1);
  });
});
