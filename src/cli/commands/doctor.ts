/** `zoho-attach doctor` */
import { ConfigError, loadConfig } from '../../config/config.js';
import { runDoctor, type CheckResult, type CheckStatus } from '../../doctor/run-doctor.js';
import { EXIT, parseOptions, println, type Command } from '../command.js';

const MARKS: Record<CheckStatus, string> = { pass: '✓', warn: '!', fail: '✗', skip: '-' };

export const doctorCommand: Command = {
  summary: 'check the set-up (Redis, Zoho OAuth and API, file roots) and say how to fix what is wrong',
  usage: `zoho-attach doctor

Checks, and says how to fix each problem:
  - the configuration (every variable)
  - Redis: reachable (REDIS_URL), its version, maxmemory-policy noeviction, persistence (AOF)
  - Zoho OAuth: the shared token in Redis is valid, or one refresh works in ZOHO_DC
  - the Zoho API domain answers and accepts the token (one read: 1 API credit)
  - every folder of ZOHO_ATTACH_FILE_ROOTS exists and is readable

Prints a checklist: ✓ passed, ! warning, ✗ failed, - not checked (an earlier check failed).
Exit 0 when nothing failed (warnings allowed), 1 otherwise.`,
  async run(argv, deps) {
    parseOptions(argv, {});
    let results: CheckResult[];
    let heading = 'zoho-attach doctor';
    try {
      const config = loadConfig(deps.env, deps.cwd);
      heading += ` (queue ${config.queue.name}, ZOHO_DC=${config.zoho.dataCentre})`;
      results = await runDoctor(config);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      // Each problem names its variable; nothing else can be checked without a valid configuration.
      results = error.problems.map((problem) => ({
        name: 'configuration',
        status: 'fail',
        detail: problem,
        fix: "correct the variable (see .env.example or the README's Configuration table)",
      }));
    }

    println(deps.stdout, `${heading}\n`);
    for (const result of results) {
      println(deps.stdout, `${MARKS[result.status]} ${result.name}: ${result.detail}`);
      if (result.fix && (result.status === 'fail' || result.status === 'warn'))
        println(deps.stdout, `    fix: ${result.fix}`);
    }
    const failed = results.filter((r) => r.status === 'fail').length;
    const warned = results.filter((r) => r.status === 'warn').length;
    const warnings = warned === 0 ? '' : `${warned} warning${warned === 1 ? '' : 's'}`;
    println(deps.stdout);
    if (failed === 0) {
      println(deps.stdout, `all checks passed${warnings ? ` (${warnings})` : ''}`);
      return EXIT.OK;
    }
    println(
      deps.stdout,
      `${failed} check${failed === 1 ? '' : 's'} failed${warnings ? `, ${warnings}` : ''}: fix the ✗ lines, then run \`zoho-attach doctor\` again`,
    );
    return EXIT.FAILED;
  },
};
