/** `zoho-attach pause` and `zoho-attach resume` */
import { loadConfig } from '../../config/config.js';
import { UploadQueue } from '../../queue/upload-queue.js';
import { EXIT, parseOptions, println, type Command } from '../command.js';

export const pauseCommand: Command = {
  summary: 'pause every worker (in-flight uploads finish)',
  usage: 'zoho-attach pause',
  async run(argv, deps) {
    parseOptions(argv, {});
    const uploadQueue = await UploadQueue.open(loadConfig(deps.env, deps.cwd));
    try {
      await uploadQueue.pauseControl.pauseByOperator();
      println(deps.stdout, 'queue paused; `zoho-attach resume` goes on');
      return EXIT.OK;
    } finally {
      await uploadQueue.close();
    }
  },
};

export const resumeCommand: Command = {
  summary: 'resume the queue after a pause (by an operator or a systemic error such as a revoked token)',
  usage: 'zoho-attach resume',
  async run(argv, deps) {
    parseOptions(argv, {});
    const uploadQueue = await UploadQueue.open(loadConfig(deps.env, deps.cwd));
    try {
      const { reason } = await uploadQueue.pauseControl.status();
      await uploadQueue.pauseControl.resume();
      println(deps.stdout, `queue resumed${reason ? ` (it was paused for [${reason.code}] ${reason.message})` : ''}`);
      return EXIT.OK;
    } finally {
      await uploadQueue.close();
    }
  },
};
