/**
 * A fake Zoho CRM for tests, the demo and benchmarks: the accounts server's token endpoint,
 * the CRM Attachments API and the COQL lookup of `shared/zoho-contract.md`, as a real HTTP
 * server, with Zoho's limits, scriptable faults and a view of everything it received.
 *
 * @example
 * const fake = await startFakeZoho({ concurrencyLimit: 5 });
 * // point the client at fake.url (both accounts URL and API domain), with FAKE_CREDENTIALS
 * fake.faults.add({ match: { path: 'upload' }, kind: 'storeThen500' });
 * fake.records.add({ module: 'Contacts', fields: { Legacy_Id: 'A-1' } });
 * expect(fake.inspect().attachments).toHaveLength(1);
 * await fake.close();
 */
import { ContentStore } from './content-store.js';
import { createControls, type FakeZohoControls } from './controls.js';
import { Dispatcher } from './dispatcher.js';
import { resolveOptions, type FakeZohoOptions } from './options.js';
import type { FakeRecord, NewFakeRecord } from './record-store.js';
import { listen } from './server.js';
import { FakeZohoState } from './state.js';

export type { AttachmentRecord } from './attachment-store.js';
export type { FakeZohoControls, IssueTokenOptions } from './controls.js';
export { FAULT_KINDS, FAULT_PATHS, InvalidFaultRuleError } from './faults.js';
export type { FaultKind, FaultMatch, FaultPath, FaultRule } from './faults.js';
export { FAKE_CREDENTIALS } from './options.js';
export { InvalidFakeRecordError } from './record-store.js';
export type { FakeRecord, FieldValue, NewFakeRecord } from './record-store.js';
export type { EmptyListStyle, ExpiresInStyle, FakeClient, FakeZohoOptions, Latency } from './options.js';
export type { FakeZohoSnapshot } from './state.js';
export type { TokenStats } from './token-store.js';

/** A running fake Zoho. */
export interface FakeZoho extends FakeZohoControls {
  /** `http://HOST:PORT`: both the accounts URL and the API domain. */
  readonly url: string;
  readonly port: number;
  /** The temp dir holding uploaded bytes (removed by `close()`); undefined when `storeContent` is off. */
  readonly contentDir: string | undefined;
  /** The CRM records COQL queries find (contract §7); `reset()` forgets them. */
  readonly records: {
    /**
     * Stores a record (its field names become fields of the module) and returns it with its id.
     * @throws {InvalidFakeRecordError} for an id that is not 1–19 digits or is taken, or a bad field name
     */
    add(record: NewFakeRecord): FakeRecord;
    /** Makes fields exist in a module with no record holding them: a query on them then finds nothing instead of failing. */
    defineFields(module: string, names: readonly string[]): void;
    /** Forgets every record and field. */
    clear(): void;
  };
  /**
   * Stops the server at once (every open connection, hung or not, is destroyed) and deletes
   * the stored bytes. Idempotent.
   */
  close(): Promise<void>;
}

/** Starts a fake Zoho listening on `options.host:options.port` (default 127.0.0.1, a free port). Prints nothing. */
export async function startFakeZoho(options: FakeZohoOptions = {}): Promise<FakeZoho> {
  const resolved = resolveOptions(options);
  const content = resolved.storeContent ? await ContentStore.create() : undefined;
  const state = new FakeZohoState(resolved, content);
  const controls = createControls(state);
  let url = '';
  const dispatcher = new Dispatcher(state, controls, () => url);

  let server;
  try {
    server = await listen(resolved, (request) => dispatcher.dispatch(request), resolved.onInternalError);
  } catch (error) {
    await content?.dispose();
    throw error;
  }
  url = server.url;

  let closing: Promise<void> | undefined;
  return {
    ...controls,
    url: server.url,
    port: server.port,
    contentDir: content?.directory,
    records: {
      add: (record) => state.records.add(record),
      defineFields: (module, names) => state.records.defineFields(module, names),
      clear: () => state.records.clear(),
    },
    close() {
      closing ??= server.close().then(() => content?.dispose());
      return closing;
    },
  };
}
