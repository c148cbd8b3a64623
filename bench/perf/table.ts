/** The printed summary: one line per variant, then every goal with its verdict. */
import type { ScenarioResult, VariantFigures } from './world.js';
import { fixed } from './scenarios/context.js';

const COLUMNS: Array<{ title: string; width: number; value: (v: VariantFigures) => string }> = [
  { title: 'variant', width: 30, value: (v) => v.variant },
  { title: 'done', width: 8, value: (v) => String(v.uploads) },
  { title: 's', width: 7, value: (v) => fixed(v.seconds, 1) },
  { title: 'per s', width: 8, value: (v) => fixed(v.rate, 1) },
  { title: 'MB/s', width: 7, value: (v) => (v.mbPerSec === undefined || v.mbPerSec < 10 ? '' : fixed(v.mbPerSec, 0)) },
  { title: 'CPU ms/up', width: 10, value: (v) => fixed(v.cpuMsPerUpload, 2) },
  { title: 'Redis ms/up', width: 12, value: (v) => fixed(v.redisCpuMsPerUpload, 3) },
  { title: 'peak RSS MB', width: 12, value: (v) => fixed(v.peakRssMB, 0) },
  { title: '429s', width: 6, value: (v) => (v.fake ? String(v.fake.rateLimited) : '') },
  { title: 'in flight', width: 9, value: (v) => (v.fake ? String(v.fake.peakInFlight) : '') },
];

/** The results as a plain-text table. */
export function formatTable(results: ScenarioResult[]): string {
  const lines: string[] = [];
  const row = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(COLUMNS[i]?.width ?? 0) : c.padStart(COLUMNS[i]?.width ?? 0))).join(' ');
  for (const result of results) {
    lines.push(`${result.id}. ${result.title}  ${JSON.stringify(result.parameters)}`);
    lines.push(`   ${row(COLUMNS.map((c) => c.title))}`);
    for (const variant of result.variants) lines.push(`   ${row(COLUMNS.map((c) => c.value(variant)))}`);
    for (const goal of result.goals)
      lines.push(`   ${goal.met ? 'MET    ' : 'NOT MET'}  ${goal.goal}: ${goal.measured}`);
    if (result.extra) lines.push(`   ${JSON.stringify(result.extra)}`);
    lines.push('');
  }
  return lines.join('\n');
}

/** The results as a Markdown table (for BENCHMARKS.md). */
export function formatMarkdown(results: ScenarioResult[]): string {
  const lines = [
    `| scenario | ${COLUMNS.map((c) => c.title).join(' | ')} |`,
    `|---|${COLUMNS.map(() => '---').join('|')}|`,
  ];
  for (const result of results) {
    for (const variant of result.variants)
      lines.push(`| ${result.id}. ${result.title} | ${COLUMNS.map((c) => c.value(variant)).join(' | ')} |`);
  }
  lines.push('', '| scenario | goal | measured | met |', '|---|---|---|---|');
  for (const result of results) {
    for (const goal of result.goals)
      lines.push(
        `| ${result.id}. ${result.title} | ${goal.goal} | ${goal.measured} | ${goal.met ? 'yes' : '**no**'} |`,
      );
  }
  return lines.join('\n');
}
