/** bull-board, set up for the upload queue, as an express app to mount under {@link DASHBOARD_PATHS.bullBoard}. */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Express } from 'express';
import type { UploadQueue } from '../queue/upload-queue.js';
import { DASHBOARD_PATHS } from './paths.js';

/** bull-board's UI and API for the upload queue. */
export function createBullBoardApp(uploadQueue: UploadQueue, options: { readOnly: boolean }): Express {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATHS.bullBoard);
  createBullBoard({
    queues: [
      new BullMQAdapter(uploadQueue.queue, {
        readOnlyMode: options.readOnly,
        // Dead letters are retried from our own page: it also moves the row back to "pending"
        // in the ledger, which bull-board's retry knows nothing of (the batch counters would
        // count the row as dead while it is queued again).
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
