/**
 * Medians over repeated runs (`npm run bench -- --repeat N`). On a shared 2-core VM one run's
 * ratio moves by ±20 % (the baselines' own CPU varies as much as zoho-attach's), so a target such
 * as "CPU ≤ 1.3× a bare BullMQ worker" is decided on the median of several runs. Each ratio is
 * taken within its run, against the baseline measured beside it, and only then is the median taken.
 */
import { fixed } from './scenarios/context.js';
import type { ScenarioResult, VariantFigures } from './world.js';

/** The median of the finite values, or undefined when there are none. */
export function median(values: Array<number | undefined>): number | undefined {
  const sorted = values.filter((v): v is number => v !== undefined && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** One line per variant of every scenario that ran more than once: its medians, and zoho-attach's ratios to it. */
export function formatMedians(results: ScenarioResult[]): string {
  const runsById = new Map<string, ScenarioResult[]>();
  for (const result of results) runsById.set(result.id, [...(runsById.get(result.id) ?? []), result]);
  const lines: string[] = [];
  for (const [id, runs] of runsById) {
    const first = runs[0];
    if (first === undefined || runs.length < 2) continue;
    const subject = (first.variants.find((v) => v.variant.startsWith('zoho-attach')) ?? first.variants[0])?.variant;
    if (subject === undefined) continue;
    const of = (run: ScenarioResult, name: string): VariantFigures | undefined =>
      run.variants.find((v) => v.variant === name);
    const ratios = (name: string, figure: (v: VariantFigures) => number | undefined) =>
      runs.map((run) => {
        const mine = of(run, subject);
        const theirs = of(run, name);
        const a = mine && figure(mine);
        const b = theirs && figure(theirs);
        return a === undefined || b === undefined || b === 0 ? undefined : a / b;
      });
    lines.push(`${id}. ${first.title}: medians of ${runs.length} runs (ratios taken within each run)`);
    for (const { variant: name } of first.variants) {
      const rate = median(runs.map((run) => of(run, name)?.rate));
      const cpu = median(runs.map((run) => of(run, name)?.cpuMsPerUpload));
      const rates = ratios(name, (v) => v.rate);
      const cpus = ratios(name, (v) => v.cpuMsPerUpload);
      const against =
        name === subject
          ? ''
          : `   ${subject}: ×${fixed(median(rates), 3)} its rate (runs ${rates.map((r) => fixed(r, 3)).join(', ')}),` +
            ` ×${fixed(median(cpus), 2)} its CPU (runs ${cpus.map((r) => fixed(r, 2)).join(', ')})`;
      lines.push(
        `   ${name.padEnd(30)} ${fixed(rate, 1).padStart(8)}/s  CPU ${fixed(cpu, 2).padStart(6)} ms/up${against}`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}
