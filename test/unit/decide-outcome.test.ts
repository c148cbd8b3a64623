/**
 * The decision table in RELIABILITY.md is the specification of `decideOutcome` and
 * `planAttempt`: this test reads it from the document and checks every row against the code,
 * so the two cannot drift apart.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ErrorClassification } from '../../src/shared/errors.js';
import { decideOutcome, planAttempt, type AttemptAnswer } from '../../src/upload/decide-outcome.js';

const document = readFileSync(new URL('../../RELIABILITY.md', import.meta.url), 'utf8');

/** The table between its markers, as objects keyed by the header cells. */
function decisionTable(): Array<Record<string, string>> {
  const start = document.indexOf('<!-- decision-table:start -->');
  const end = document.indexOf('<!-- decision-table:end -->');
  if (start < 0 || end < start) throw new Error('RELIABILITY.md has no decision table between its markers');
  const lines = document
    .slice(start, end)
    .split('\n')
    .filter((line) => line.startsWith('|'));
  const cells = (line: string) =>
    line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
  const [header, , ...rows] = lines;
  const names = cells(header as string);
  return rows.map((row) => Object.fromEntries(cells(row).map((value, i) => [names[i], value])));
}

/** Zoho's answers as the table words them, as the client classifies them (see zoho/errors.ts). */
const FAILURES: Record<string, { classification: ErrorClassification; ambiguous: boolean }> = {
  '5xx': { classification: 'transient', ambiguous: true },
  'timeout or reset after the first body byte': { classification: 'transient', ambiguous: true },
  'refused before the first body byte': { classification: 'transient', ambiguous: false },
  '4xx': { classification: 'permanent', ambiguous: false },
  '429': { classification: 'rate_limited', ambiguous: false },
  '401 scope or authentication': { classification: 'systemic', ambiguous: false },
  '401 INVALID_TOKEN after one refresh': { classification: 'token_expired', ambiguous: false },
  'aborted: lease lost, body started': { classification: 'transient', ambiguous: true },
  // attempt-upload.ts turns a DUPLICATE_DATA whose link the row may have stored into DUPLICATE_NOT_LISTED_YET.
  '400 DUPLICATE_DATA, the link not listed yet': { classification: 'transient', ambiguous: true },
  "400 DUPLICATE_DATA, no copy of this row's": { classification: 'permanent', ambiguous: false },
};

function answerOf(row: Record<string, string>): AttemptAnswer {
  if (row['listing found'] === "this row's copy") return { kind: 'adopted' };
  const answer = row["Zoho's answer"] as string;
  if (answer === '2xx with id') return { kind: 'posted' };
  const failure = FAILURES[answer];
  if (!failure) throw new Error(`row ${row['#']}: no classification for the answer "${answer}"`);
  return { kind: 'failed', ...failure };
}

const yes = (value: string | undefined) => {
  if (value !== 'yes' && value !== 'no') throw new Error(`expected yes or no, got "${value}"`);
  return value === 'yes';
};

describe('the decision table (RELIABILITY.md)', () => {
  const rows = decisionTable();

  it('has rows, numbered in order', () => {
    expect(rows.length).toBeGreaterThanOrEqual(19);
    expect(rows.map((r) => r['#'])).toEqual(rows.map((_, i) => String(i + 1)));
  });

  it.each(rows.map((row) => [row['#'], row] as const))('row %s', (_, row) => {
    const mayBeStored = yes(row['mark before']);
    // The listing column is what planAttempt decides: a marked row lists before it posts.
    expect(planAttempt({ verdict: 'go', mayBeStored })).toBe(mayBeStored ? 'reconcile-then-post' : 'post');
    expect(row['listing found'] === '(not listed)').toBe(!mayBeStored);

    const decision = decideOutcome(
      { mayBeStored, lastAttempt: yes(row['last attempt']), link: row.target === 'link' },
      answerOf(row),
    );
    expect(decision).toEqual({
      action: row.action,
      next: row['status after'],
      mark: row['mark after'],
      verify: yes(row.verify),
    });
  });
});

describe('planAttempt', () => {
  it.each([
    ['uploaded', false, 'skip'],
    ['uploaded', true, 'skip'],
    ['busy', true, 'wait-for-other-run'],
    ['stale', false, 'wait-for-other-run'],
    ['go', false, 'post'],
    ['go', true, 'reconcile-then-post'],
  ] as const)('verdict %s, mark %s: %s', (verdict, mayBeStored, plan) => {
    expect(planAttempt({ verdict, mayBeStored })).toBe(plan);
  });
});
