/**
 * The CLI: argv → one command → exit code. `main.ts` (the executable) calls {@link runCli}
 * with {@link processDeps} and ends with {@link exitWhenFlushed}: the only process.exit in the code.
 */
import { readFile } from 'node:fs/promises';
import { safeErrorMessage } from '../shared/redact.js';
import { EXIT, UsageError, println, type CliDeps, type Command } from './command.js';

/**
 * Every command, by name, loaded only when run: a command pulls in only what it needs
 * (`status` never loads the dashboard's web server or the metrics library), which keeps
 * every invocation quick to start.
 */
export const COMMANDS: Record<string, () => Promise<Command>> = {
  enqueue: async () => (await import('./commands/enqueue.js')).enqueueCommand,
  worker: async () => (await import('./commands/worker.js')).workerCommand,
  doctor: async () => (await import('./commands/doctor.js')).doctorCommand,
  health: async () => (await import('./commands/health.js')).healthCommand,
  status: async () => (await import('./commands/status.js')).statusCommand,
  report: async () => (await import('./commands/report.js')).reportCommand,
  archive: async () => (await import('./commands/archive.js')).archiveCommand,
  check: async () => (await import('./commands/check.js')).checkCommand,
  undo: async () => (await import('./commands/undo.js')).undoCommand,
  plan: async () => (await import('./commands/plan.js')).planCommand,
  dlq: async () => (await import('./commands/dlq.js')).dlqCommand,
  pause: async () => (await import('./commands/pause-resume.js')).pauseCommand,
  resume: async () => (await import('./commands/pause-resume.js')).resumeCommand,
  dashboard: async () => (await import('./commands/dashboard.js')).dashboardCommand,
  'fake-zoho': async () => (await import('./commands/fake-zoho.js')).fakeZohoCommand,
  demo: async () => (await import('./commands/demo.js')).demoCommand,
};

async function helpText(): Promise<string> {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = await Promise.all(
    Object.entries(COMMANDS).map(async ([name, load]) => `  ${name.padEnd(width)}  ${(await load()).summary}`),
  );
  return `zoho-attach: move files into Zoho CRM as record attachments, in bulk, through a queue

Usage: zoho-attach <command> [options]     (zoho-attach <command> --help for a command's options)

Commands:
${lines.join('\n')}

Configuration comes from environment variables; see the README.
--version prints the version.

Exit codes: 0 done; 1 failed (or done only in part: some manifest rows rejected); 2 a wrong command
line; 130 interrupted (Ctrl-C or SIGTERM before the end).`;
}

/** Runs one command line and returns its exit code. */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v' || name === 'version') {
    println(deps.stdout, `zoho-attach ${await packageVersion()}`);
    return EXIT.OK;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    println(deps.stdout, await helpText());
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    println(deps.stderr, `zoho-attach: unknown command "${name}"\n\n${await helpText()}`);
    return EXIT.USAGE;
  }
  const command = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    println(deps.stdout, command.usage);
    return EXIT.OK;
  }
  try {
    return await command.run(rest, deps);
  } catch (error) {
    println(deps.stderr, describeFailure(error, name, command));
    return error instanceof UsageError ? EXIT.USAGE : EXIT.FAILED;
  }
}

/** The installed package's version, from its package.json (dist/cli/ → ../../package.json). */
async function packageVersion(): Promise<string> {
  const raw = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(raw) as { version: string }).version;
}

/** The last line a failed command prints: its message, with no password of a URL and no Redis command arguments. */
function describeFailure(error: unknown, name: string, command: Command): string {
  if (error instanceof UsageError) return `zoho-attach ${name}: ${safeErrorMessage(error)}\n\nUsage:\n${command.usage}`;
  return `zoho-attach ${name}: ${safeErrorMessage(error)}`;
}

/** The process's streams, environment and stop signal, for {@link runCli}. */
export function processDeps(): CliDeps {
  return {
    env: process.env,
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    stopSignal: stopSignal(),
  };
}

/** Exits with `code` once stdout has drained, so piped output is never cut short. */
export function exitWhenFlushed(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

/** Resolves on the first SIGINT or SIGTERM; a second one ends the process at once. */
function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: string) => {
      resolve(signal);
      // A second Ctrl-C means "now": let Node's default handling end the process.
      process.removeAllListeners('SIGINT');
      process.removeAllListeners('SIGTERM');
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}
