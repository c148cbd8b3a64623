/** `zoho-attach worker [--concurrency N] [--until-idle]` */
import { loadConfig } from '../../config/config.js';
import { startUploadWorker } from '../../queue/upload-worker.js';
import { createLogger } from '../../shared/logger.js';
import { EXIT, intOption, parseOptions, type Command } from '../command.js';

/** How often `--until-idle` looks at the queue. */
const IDLE_POLL_MS = 500;

export const workerCommand: Command = {
  summary: 'run upload workers until stopped (or until the queue is idle)',
  usage: `zoho-attach worker [--concurrency N] [--until-idle]

  --concurrency N  uploads this process runs at once (default: ZOHO_CONCURRENCY); the global cap
                   ZOHO_CONCURRENCY still bounds all workers together
  --until-idle     exit 0 once nothing is waiting, delayed or active (dead letters do not count)

Stops on SIGTERM/SIGINT after in-flight uploads finish (bounded by ZOHO_ATTACH_SHUTDOWN_TIMEOUT_MS), exit 0.`,
  async run(argv, deps) {
    const { values } = parseOptions(argv, { concurrency: { type: 'string' }, 'until-idle': { type: 'boolean' } });
    const concurrency = intOption('concurrency', values.concurrency, 1, 1000);
    const config = loadConfig(deps.env, deps.cwd);
    const logger = createLogger({ level: config.logLevel });
    const running = await startUploadWorker({ config, logger, ...(concurrency === undefined ? {} : { concurrency }) });
    logger.info({ queue: config.queue.name, concurrency: concurrency ?? config.queue.concurrency, globalConcurrency: config.queue.concurrency }, 'worker started');

    const stopReason = await Promise.race([
      deps.stopSignal.then((signal) => `signal ${signal}`),
      ...(values['until-idle'] ? [waitUntilIdle(running.uploadQueue.isIdle.bind(running.uploadQueue))] : []),
    ]);
    logger.info({ reason: stopReason }, 'worker stopping: finishing in-flight uploads');
    await running.close();
    logger.info('worker stopped');
    logger.flush?.();
    return EXIT.OK;
  },
};

/** Resolves once the queue has been seen idle twice in a row (a job may be between states once). */
async function waitUntilIdle(isIdle: () => Promise<boolean>): Promise<string> {
  let idleSeen = 0;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, IDLE_POLL_MS));
    idleSeen = (await isIdle()) ? idleSeen + 1 : 0;
    if (idleSeen >= 2) return 'queue idle';
  }
}
