/** bull-board, set up for the upload queue, as an express app to mount under {@link DASHBOARD_PATHS.bullBoard}. */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Express } from 'express';
import type { UploadQueue } from '../queue/upload-queue.js';
import { DASHBOARD_PATHS } from './paths.js';

/**
 * bull-board's UI and API for the upload queue, for looking only. Its writes (retry, add, edit,
 * clean, promote, empty, pause) would bypass the ledger: a retried dead letter would stay
 * "dead" in the batch counters, an added job would skip the manifest's checks. So it is always
 * read-only (bull-board then refuses those API calls, whatever the UI sends); retrying, purging,
 * pausing and resuming happen on the dashboard's own pages and in the CLI, which keep the ledger
 * in step.
 */
export function createBullBoardApp(uploadQueue: UploadQueue): Express {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATHS.bullBoard);
  createBullBoard({
    queues: [
      new BullMQAdapter(uploadQueue.queue, {
        readOnlyMode: true,
        allowRetries: false,
        description: 'one job per manifest row; failed jobs are the dead letters',
      }),
    ],
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: `zoho-attach · ${uploadQueue.config.queue.name}`,
        miscLinks: [{ text: 'zoho-attach dashboard', url: '/' }],
        hideDocsLink: true,
      },
    },
  });
  const app = serverAdapter.getRouter() as Express;
  app.disable('x-powered-by');
  return app;
}
