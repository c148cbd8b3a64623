/**
 * What every CLI command is: a plain async function from parsed options and injected
 * dependencies to an exit code. Only main.ts touches process.exit.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** What a command may use from the outside world (tests pass their own). */
export interface CliDeps {
  env: Record<string, string | undefined>;
  cwd: string;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Where a command that asks for confirmation reads the answer (only on a terminal). */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  stopSignal: Promise<string>;
}

/** A command of the CLI. */
export interface Command {
  /** One line for `--help`. */
  summary: string;
  /** The full usage text. */
  usage: string;
  run(argv: string[], deps: CliDeps): Promise<number>;
}

/** A mistake in how a command was called: the message names the option. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'USAGE';
}

/** Exit codes shared by every command (the README and `--help` list them). */
export const EXIT = {
  /** Done. */
  OK: 0,
  /** Failed, or done only in part (some manifest rows rejected while the valid ones were enqueued). */
  FAILED: 1,
  /** The command line was wrong: an unknown command or option, a missing argument. */
  USAGE: 2,
  /** Stopped by SIGINT or SIGTERM before the end (128 + SIGINT's number, as shells report Ctrl-C). */
  INTERRUPTED: 130,
} as const;

/** An AbortSignal that fires when the process is asked to stop (the first SIGINT or SIGTERM). */
export function abortOnStop(stopSignal: Promise<string>): AbortSignal {
  const controller = new AbortController();
  void stopSignal.then((signal) => controller.abort(signal));
  return controller.signal;
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** What {@link parseOptions} returns for the options `T`. */
export type ParsedOptions<T extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ options: T; allowPositionals: true; strict: true }>
>;

/** node:util's parseArgs, with its errors turned into {@link UsageError}s that name the option. */
export function parseOptions<T extends OptionsConfig>(
  argv: string[],
  options: T,
  allowPositionals = false,
): ParsedOptions<T> {
  try {
    // parseArgs types positionals by a literal `allowPositionals`; ours is a parameter, so the result is named here.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- the assertion picks the overload's result type
    return parseArgs({ args: argv, options, allowPositionals, strict: true }) as ParsedOptions<T>;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Reads a whole-number option, naming it in the error. */
export function intOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${name} "${value}" must be a whole number from ${min} to ${max}`);
  }
  return Number(value);
}

/**
 * `--concurrency N` of a command whose Zoho calls borrow slots from the workers' shared limit
 * while it runs (`check`, `undo`): 1 to 25 (Zoho's highest limit), 2 unless given.
 */
export function borrowedConcurrencyOption(value: string | undefined): number {
  return intOption('concurrency', value, 1, 25) ?? 2;
}

/** Writes a line to a stream. */
export function println(stream: NodeJS.WritableStream, text = ''): void {
  stream.write(`${text}\n`);
}
