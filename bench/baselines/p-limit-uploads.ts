/**
 * Baseline: every upload started at once under a p-limit-style limiter of the scenario's
 * concurrency, in one process. No durability, no retries, no ledger.
 * Spec: { zoho, uploads, concurrency }.
 */
import { createLimit } from './limit.js';
import { countStatus, measure, readSpec, type BaselineUpload, type BaselineZoho } from './spec.js';
import { postAttachment } from './zoho-post.js';

const spec = readSpec<{ zoho: BaselineZoho; uploads: BaselineUpload[]; concurrency: number }>();
const limit = createLimit(spec.concurrency);

await measure(async () => {
  const statuses: Record<string, number> = {};
  let bytes = 0;
  await Promise.all(
    spec.uploads.map((upload) =>
      limit(async () => {
        try {
          const status = await postAttachment(spec.zoho, upload);
          countStatus(statuses, status);
          if (status === 200) bytes += upload.size;
        } catch {
          countStatus(statuses, 'error');
        }
      }),
    ),
  );
  return { uploads: spec.uploads.length, statuses, bytes };
});
