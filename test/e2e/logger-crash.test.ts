/**
 * The worker's log lines survive the process: a line logged is written before the call returns, so a
 * worker killed right after an upload (SIGKILL, the OOM killer) still leaves that upload's line. The
 * built logger in a child process, with its stderr a pipe as under systemd or `| tee`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { collect } from '../helpers/pipeline.js';

const LOGGER_PATH = fileURLToPath(new URL('../../dist/shared/logger.js', import.meta.url));

describe('the log destination', () => {
  it('has written every line logged before a SIGKILL', async () => {
    const lines = 2_000;
    const script = `
      const { createLogger } = await import(${JSON.stringify(LOGGER_PATH)});
      const logger = createLogger({ pretty: false });
      for (let i = 1; i <= ${lines}; i++) logger.info({ line: i }, 'upload outcome');
      process.kill(process.pid, 'SIGKILL');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const result = await collect(child, 30_000);
    expect(result.signal).toBe('SIGKILL');
    const logged = result.stderr
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as { line: number }).line);
    expect(logged).toHaveLength(lines);
    expect(logged.at(-1)).toBe(lines);
  });
});
