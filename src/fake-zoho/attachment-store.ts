/** The attachments the fake holds, per module and record, in upload order. */
import { formatZohoTime } from './zoho-answers.js';

/** One attachment as the fake reports it (the snapshot's rows). */
export interface AttachmentRecord {
  /** A 19-digit numeric string. */
  id: string;
  module: string;
  recordId: string;
  /** The file's name; for a link, its title or else its URL. */
  fileName: string;
  /** Bytes; 0 for a link. */
  size: number;
  /** Hex sha256 of the bytes (of no bytes, for a link). */
  sha256: string;
  title?: string;
  linkUrl?: string;
  type: 'Attachment' | 'Link URL';
  /** Zoho time format, e.g. `2024-05-03T12:33:00+00:00`. */
  createdTime: string;
}

/** An attachment plus what the fake needs to serve its bytes. */
export interface StoredAttachment extends AttachmentRecord {
  contentType: string;
  /** Where its bytes are; undefined for links and when content is not stored. */
  contentPath?: string;
  /** When it was stored, on the fake's clock (ms). */
  createdAtMs: number;
}

/** What an upload supplies; the store adds the id and the time. */
export type NewAttachment = Omit<StoredAttachment, 'id' | 'createdTime' | 'createdAtMs'>;

/**
 * Ids look like Zoho's: an org-like 10-digit prefix and a 9-digit sequence, 19 digits in all,
 * beyond Number.MAX_SAFE_INTEGER so that a client parsing them as numbers gets caught.
 */
const ID_PREFIX = '4150868000';
const FIRST_ID_SEQUENCE = 5_000_001;

/** Attachments keyed by module and record. */
export class AttachmentStore {
  private readonly byRecord = new Map<string, StoredAttachment[]>();
  /** Attachments stored late (a `lateStore` fault): they exist from `dueAt` on. */
  private late: Array<{ dueAt: number; attachment: NewAttachment }> = [];
  /** Keeps counting across `clear()` so an id is never handed out twice. */
  private nextSequence = FIRST_ID_SEQUENCE;

  constructor(private readonly clock: () => number) {}

  /** Stores a new attachment and returns it with its id and time. */
  add(attachment: NewAttachment, at: number = this.clock()): StoredAttachment {
    const stored: StoredAttachment = {
      id: `${ID_PREFIX}${String(this.nextSequence).padStart(9, '0')}`,
      ...attachment,
      createdTime: formatZohoTime(at),
      createdAtMs: at,
    };
    this.nextSequence += 1;
    const key = recordKey(attachment.module, attachment.recordId);
    this.byRecord.set(key, [...(this.byRecord.get(key) ?? []), stored]);
    return stored;
  }

  /** Stores an attachment `delayMs` from now: until then it does not exist (not listed, not found, not in a snapshot). */
  addLater(attachment: NewAttachment, delayMs: number): void {
    this.late.push({ dueAt: this.clock() + delayMs, attachment });
  }

  /** Late attachments not stored yet. */
  pendingLate(): number {
    this.storeDue();
    return this.late.length;
  }

  /** The record's attachments, oldest first. */
  listFor(module: string, recordId: string): readonly StoredAttachment[] {
    this.storeDue();
    return this.byRecord.get(recordKey(module, recordId)) ?? [];
  }

  /** What the list API shows: the record's attachments stored at least `lagMs` ago (Zoho's list lags behind its store). */
  listed(module: string, recordId: string, lagMs: number): readonly StoredAttachment[] {
    const cutoff = this.clock() - lagMs;
    return this.listFor(module, recordId).filter((attachment) => attachment.createdAtMs <= cutoff);
  }

  /** One attachment of the record. */
  find(module: string, recordId: string, id: string): StoredAttachment | undefined {
    return this.listFor(module, recordId).find((attachment) => attachment.id === id);
  }

  /** The record's link attachment with this URL, if any. */
  findLink(module: string, recordId: string, linkUrl: string): StoredAttachment | undefined {
    return this.listFor(module, recordId).find((attachment) => attachment.linkUrl === linkUrl);
  }

  /** Removes one attachment of the record and returns it. */
  remove(module: string, recordId: string, id: string): StoredAttachment | undefined {
    this.storeDue();
    const key = recordKey(module, recordId);
    const attachments = this.byRecord.get(key) ?? [];
    const removed = attachments.find((attachment) => attachment.id === id);
    if (removed)
      this.byRecord.set(
        key,
        attachments.filter((attachment) => attachment !== removed),
      );
    return removed;
  }

  /** Every attachment, grouped by record. */
  all(): StoredAttachment[] {
    this.storeDue();
    return [...this.byRecord.values()].flat();
  }

  /** Removes everything (late ones too) and returns what was removed. */
  clear(): StoredAttachment[] {
    const removed = this.all();
    this.byRecord.clear();
    this.late = [];
    return removed;
  }

  /** Stores the late attachments that are due, at the time they were due. */
  private storeDue(): void {
    if (this.late.length === 0) return;
    const now = this.clock();
    const due = this.late.filter((entry) => entry.dueAt <= now).sort((a, b) => a.dueAt - b.dueAt);
    if (due.length === 0) return;
    this.late = this.late.filter((entry) => entry.dueAt > now);
    for (const entry of due) this.add(entry.attachment, entry.dueAt);
  }
}

function recordKey(module: string, recordId: string): string {
  return `${module}/${recordId}`;
}
