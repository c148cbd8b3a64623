#!/usr/bin/env node
/**
 * The CLI entry point: argv → one command → exit code. The only process.exit in the code.
 */
import { ConfigError } from '../config/config.js';
import { isClassifiedError } from '../shared/errors.js';
import { EXIT, UsageError, println, type CliDeps, type Command } from './command.js';
import { demoCommand } from './commands/demo.js';
import { dlqCommand } from './commands/dlq.js';
import { enqueueCommand } from './commands/enqueue.js';
import { fakeZohoCommand } from './commands/fake-zoho.js';
import { pauseCommand, resumeCommand } from './commands/pause-resume.js';
import { reportCommand } from './commands/report.js';
import { statusCommand } from './commands/status.js';
import { workerCommand } from './commands/worker.js';

/** Every command, by name. */
export const COMMANDS: Record<string, Command> = {
  enqueue: enqueueCommand,
  worker: workerCommand,
  doctor: (await import('./commands/doctor.js')).doctorCommand,
  status: statusCommand,
  report: reportCommand,
  dlq: dlqCommand,
  pause: pauseCommand,
  resume: resumeCommand,
  dashboard: (await import('./commands/dashboard.js')).dashboardCommand,
  'fake-zoho': fakeZohoCommand,
  demo: demoCommand,
};

function helpText(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `zoho-attach: move files into Zoho CRM as record attachments, in bulk, through a queue

Usage: zoho-attach <command> [options]     (zoho-attach <command> --help for a command's options)

Commands:
${lines.join('\n')}

Configuration comes from environment variables; see the README.`;
}

/** Runs one command line and returns its exit code. */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    println(deps.stdout, helpText());
    return name === undefined ? EXIT.FAILED : EXIT.OK;
  }
  const command = COMMANDS[name];
  if (!command) {
    println(deps.stderr, `zoho-attach: unknown command "${name}"\n\n${helpText()}`);
    return EXIT.FAILED;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    println(deps.stdout, command.usage);
    return EXIT.OK;
  }
  try {
    return await command.run(rest, deps);
  } catch (error) {
    println(deps.stderr, describeFailure(error, name, command));
    return EXIT.FAILED;
  }
}

function describeFailure(error: unknown, name: string, command: Command): string {
  if (error instanceof UsageError) return `zoho-attach ${name}: ${error.message}\n\nUsage:\n${command.usage}`;
  if (error instanceof ConfigError) return `zoho-attach ${name}: ${error.message}`;
  if (isClassifiedError(error) || error instanceof Error) return `zoho-attach ${name}: ${error.message}`;
  return `zoho-attach ${name}: ${String(error)}`;
}

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

const exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
  stopSignal: stopSignal(),
});
// Let stdout drain before exiting, so piped output is never cut short.
process.stdout.write('', () => process.exit(exitCode));
