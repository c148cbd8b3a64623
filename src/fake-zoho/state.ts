/**
 * Everything one fake remembers: stored attachments and their bytes, records for COQL lookups,
 * tokens, limits, fault rules and the counters the snapshot reports.
 */
import { Admission } from './admission.js';
import { AttachmentStore, type AttachmentRecord, type StoredAttachment } from './attachment-store.js';
import type { ContentStore } from './content-store.js';
import { FaultBook, type FaultKind } from './faults.js';
import { ModuleCatalog } from './modules.js';
import type { ResolvedOptions } from './options.js';
import { RecordStore, type FakeRecord } from './record-store.js';
import type { ApiOperation } from './router.js';
import { TokenStore, type TokenStats } from './token-store.js';

/** What `fake.inspect()` and `GET /__fake/state` return: plain data, a copy. */
export interface FakeZohoSnapshot {
  attachments: AttachmentRecord[];
  /** Most API calls in flight at once (admitted calls only). */
  peakInFlight: number;
  inFlight: number;
  /** Every CRM API answer, keyed `${httpStatus} ${code}` (e.g. `200 SUCCESS`, `429 TOO_MANY_REQUESTS`). */
  counters: Record<string, number>;
  /** Requests that reached each API route, whatever they were answered. */
  calls: Record<ApiOperation, number>;
  /** Requests that reached the Query API (`POST …/coql`), whatever they were answered. */
  coqlCalls: number;
  /** The records COQL queries look up, module by module. */
  records: FakeRecord[];
  tokens: TokenStats;
  /** Uploads a `lateStore` fault will store later (not in `attachments` yet). */
  lateStoresPending: number;
  /** Credits spent: one per admitted API call. */
  creditsUsed: number;
  /** How often each fault kind fired. */
  faultsFired: Record<FaultKind, number>;
}

/** One fake's state. */
export class FakeZohoState {
  readonly attachments: AttachmentStore;
  readonly tokens: TokenStore;
  readonly admission: Admission;
  readonly faults = new FaultBook();
  readonly modules: ModuleCatalog;
  readonly records = new RecordStore();
  private counters = new Map<string, number>();
  private calls = emptyCallCounts();
  private coqlCalls = 0;
  /** How long a new attachment stays out of the list API (Zoho's list lags behind its store); settable while running. */
  listLagMs: number;

  constructor(
    readonly options: ResolvedOptions,
    /** Where uploaded bytes go; undefined when `storeContent` is off. */
    readonly content: ContentStore | undefined,
  ) {
    this.attachments = new AttachmentStore(options.clock);
    this.tokens = new TokenStore(options);
    this.admission = new Admission(options.concurrencyLimit, options.dailyCredits);
    this.modules = new ModuleCatalog(options.customModules);
    this.listLagMs = options.listLagMs;
  }

  /** Counts one request that reached an API route. */
  countCall(operation: ApiOperation): void {
    this.calls[operation] += 1;
  }

  /** Counts one request that reached the Query API. */
  countQuery(): void {
    this.coqlCalls += 1;
  }

  /** Counts one CRM API answer. */
  countAnswer(status: number, code: string): void {
    const key = `${status} ${code}`;
    this.counters.set(key, (this.counters.get(key) ?? 0) + 1);
  }

  /** A copy of everything worth asserting on. */
  snapshot(): FakeZohoSnapshot {
    return {
      attachments: this.attachments.all().map(toRecord),
      ...this.admission.stats(),
      counters: Object.fromEntries(this.counters),
      calls: { ...this.calls },
      coqlCalls: this.coqlCalls,
      records: this.records.all(),
      tokens: this.tokens.stats(),
      faultsFired: this.faults.fired(),
      lateStoresPending: this.attachments.pendingLate(),
    };
  }

  /**
   * Forgets attachments (and their bytes), records, counters, credits, fault rules, the refresh
   * window and revocations. Clients and live access tokens stay.
   */
  async reset(): Promise<void> {
    const removed = this.attachments.clear();
    this.records.clear();
    this.counters = new Map();
    this.calls = emptyCallCounts();
    this.coqlCalls = 0;
    this.faults.reset();
    this.admission.reset();
    this.tokens.resetHistory();
    await this.removeContent(removed);
  }

  /** Deletes the stored bytes of these attachments. */
  async removeContent(attachments: readonly StoredAttachment[]): Promise<void> {
    const content = this.content;
    if (!content) return;
    await Promise.all(
      attachments.flatMap((attachment) => (attachment.contentPath ? [content.remove(attachment.contentPath)] : [])),
    );
  }
}

/** The snapshot row: the stored attachment without the fake's own bookkeeping. */
function toRecord({
  contentPath: _path,
  contentType: _type,
  createdAtMs: _at,
  ...record
}: StoredAttachment): AttachmentRecord {
  return record;
}

function emptyCallCounts(): Record<ApiOperation, number> {
  return { upload: 0, list: 0, download: 0, delete: 0 };
}
