/**
 * What /proc says about a process: CPU time spent (utime + stime) and resident memory
 * (current and peak). Linux only, like the rest of the benchmark.
 */
import { spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc/<pid>/stat's CPU fields. */
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU time a process has spent so far (user + system), in ms; undefined once it is gone. */
export async function cpuMsOf(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ": state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Resident memory of a process in KiB: now (VmRSS) and its peak so far (VmHWM); undefined once it is gone. */
export async function memoryOf(pid: number): Promise<{ rssKiB: number; hwmKiB: number } | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    const memory = { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') };
    // A process that has exited but not been reaped yet (a zombie) has no memory lines.
    return Number.isNaN(memory.rssKiB) || Number.isNaN(memory.hwmKiB) ? undefined : memory;
  } catch {
    return undefined;
  }
}

/**
 * Watches the peak resident memory of some processes: VmHWM is the kernel's own high-water
 * mark, read every `intervalMs` (and once more by {@link PeakMemory.stop}) while the process lives.
 */
export class PeakMemory {
  private readonly peaks = new Map<number, number>();
  private readonly cpu = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pids: number[],
    intervalMs = 100,
  ) {
    this.timer = setInterval(() => void this.sample(), intervalMs);
  }

  /** Peak RSS per pid, in KiB, after one last reading. */
  async stop(): Promise<Map<number, number>> {
    clearInterval(this.timer);
    await this.sample();
    return new Map(this.peaks);
  }

  /** The CPU ms each pid had spent at the last reading (for a process that has exited since: nearly its total). */
  lastCpuMs(pid: number): number | undefined {
    return this.cpu.get(pid);
  }

  private async sample(): Promise<void> {
    await Promise.all(
      this.pids.map(async (pid) => {
        const memory = await memoryOf(pid);
        if (memory) this.peaks.set(pid, Math.max(this.peaks.get(pid) ?? 0, memory.hwmKiB, memory.rssKiB));
        const cpu = await cpuMsOf(pid);
        if (cpu !== undefined) this.cpu.set(pid, cpu);
      }),
    );
  }
}

/** Context switches of a process so far (voluntary + involuntary, all its threads); undefined once it is gone. */
export async function contextSwitchesOf(pid: number): Promise<number | undefined> {
  try {
    let total = 0;
    for (const thread of await readdir(`/proc/${pid}/task`)) {
      const status = await readFile(`/proc/${pid}/task/${thread}/status`, 'utf8');
      total += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      total += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    }
    return total;
  } catch {
    return undefined;
  }
}

/** CPU ms spent by each pid since {@link cpuMark} was taken. */
export async function cpuSince(mark: Map<number, number>): Promise<number> {
  let total = 0;
  for (const [pid, before] of mark) total += ((await cpuMsOf(pid)) ?? before) - before;
  return total;
}

/** The CPU spent so far by each pid, to measure a phase with {@link cpuSince}. */
export async function cpuMark(pids: number[]): Promise<Map<number, number>> {
  const mark = new Map<number, number>();
  for (const pid of pids) mark.set(pid, (await cpuMsOf(pid)) ?? 0);
  return mark;
}
