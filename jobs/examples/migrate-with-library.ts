/**
 * A migration driven from a script through the library, the way a migration team would
 * write it: documents from the legacy system go in as rows, a worker in this same process
 * uploads them, and the ledger comes back as the mapping legacy id → Zoho attachment id.
 *
 *   ZOHO_CLIENT_ID=… ZOHO_CLIENT_SECRET=… ZOHO_REFRESH_TOKEN=… ZOHO_ATTACH_FILE_ROOTS=$PWD/jobs/examples/files \
 *     npx tsx jobs/examples/migrate-with-library.ts
 *
 * The test suite runs it against the built-in fake Zoho (test/e2e/library-example.test.ts).
 * Exit code: 0 when every document is in Zoho, 1 otherwise.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZohoAttach, ZohoAttachError, loadConfig, startUploadWorker, type Logger } from 'zoho-attach';

/** What the legacy system knows of each document. */
interface LegacyDocument {
  id: string;
  zohoAccountId: string;
  path: string;
  title: string;
}

const filesDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'files');
const legacyDocuments: LegacyDocument[] = [
  {
    id: 'DOC-1',
    zohoAccountId: '4150868000000224001',
    path: path.join(filesDir, 'contracts/acme-master-agreement.pdf'),
    title: 'Master agreement',
  },
  {
    id: 'DOC-2',
    zohoAccountId: '4150868000000224002',
    path: path.join(filesDir, 'contracts/globex-nda.pdf'),
    title: 'NDA',
  },
  {
    id: 'DOC-3',
    zohoAccountId: '4150868000000224003',
    path: path.join(filesDir, 'contracts/initech renewal 2024.pdf'),
    title: 'Renewal 2024',
  },
  {
    id: 'DOC-4',
    zohoAccountId: '4150868000000224003',
    path: path.join(filesDir, 'call-notes.txt'),
    title: 'Call notes',
  },
];

// Any logger with pino's methods will do; this one writes warnings and errors to stderr.
const logger: Logger = {
  error: (fields: object | string, message?: string) => console.error('error', message ?? fields),
  warn: (fields: object | string, message?: string) => console.error('warn', message ?? fields),
  info: () => undefined,
  debug: () => undefined,
  child: () => logger,
};

const batch = process.env.EXAMPLE_BATCH ?? 'library-example';
const config = loadConfig(process.env);
const za = await ZohoAttach.open(config);
const worker = await startUploadWorker({ config, logger });
try {
  const check = await za.dryRun(legacyDocuments.map(toRow));
  if (check.rejections.length > 0) console.warn('rows that would be refused:', check.rejections);

  const summary = await za.enqueueRows(legacyDocuments.map(toRow), { batch });
  console.log(`enqueued ${summary.enqueued}, already uploaded ${summary.skipped}, rejected ${summary.rejected}`);

  const done = await za.waitForBatch(batch, { timeoutMs: 120_000 });
  console.log(`batch ${batch}: ${done.uploaded} uploaded, ${done.dead} dead letters`);
  for await (const row of za.report(batch)) {
    if (row.status === 'uploaded') console.log(`mapping ${row.extra.legacy_id} -> ${row.attachment_id}`);
    else console.log(`problem ${row.extra.legacy_id}: [${row.error_code}] ${row.error_message}`);
  }
  for (const group of await za.deadLetters({ batch }))
    console.log(`dead letters [${group.id}] ${group.code}: ${group.count}`);
  process.exitCode = done.dead === 0 && done.uploaded === legacyDocuments.length ? 0 : 1;
} catch (error) {
  // Every error the library throws on purpose has a stable code to branch on.
  if (error instanceof ZohoAttachError) console.error(`failed: ${error.code}: ${error.reason}`);
  else console.error(error);
  process.exitCode = 1;
} finally {
  await worker.close();
  await za.close();
}

function toRow(doc: LegacyDocument) {
  return { module: 'Accounts', record_id: doc.zohoAccountId, file: doc.path, title: doc.title, legacy_id: doc.id };
}
