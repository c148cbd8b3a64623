/**
 * Every ledger change that touches more than one field or key is a Lua script, so that an
 * item and its batch counters move together. Each script lives in the file of the code that
 * calls it; this module only defines and runs them.
 */
import type { ChainableCommander, Redis } from 'ioredis';

/** One Lua script, named for ioredis' `defineCommand`. */
export interface LedgerScript {
  /** A unique command name (ioredis adds it as a method of the connection). */
  name: string;
  lua: string;
}

type ScriptCommand = (numberOfKeys: number, ...keysThenArgs: Array<string | number | Buffer>) => Promise<unknown>;

/**
 * Runs `script` with `keys` and `args`, defining it on the connection first if needed.
 * On a pipeline or MULTI, the command is queued and its result comes with `exec()`.
 */
export function runScript<T>(
  redis: Redis | ChainableCommander,
  script: LedgerScript,
  keys: string[],
  args: Array<string | number | Buffer>,
): Promise<T> {
  const commands = redis as unknown as Record<string, ScriptCommand | undefined> & Pick<Redis, 'defineCommand'>;
  // A MULTI cannot define commands: the connection it came from must have defined the script first.
  if (commands[script.name] === undefined) commands.defineCommand(script.name, { lua: script.lua });
  return (commands[script.name] as ScriptCommand)(keys.length, ...keys, ...args) as Promise<T>;
}

/** Defines `script` on a connection, so that its MULTIs and pipelines can run it. */
export function defineScript(redis: Redis, script: LedgerScript): void {
  redis.defineCommand(script.name, { lua: script.lua });
}
