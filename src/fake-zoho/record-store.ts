/**
 * The CRM records the fake knows, with the field values COQL queries look up (contract §7).
 * Records exist only for lookups: the Attachments routes take any numeric record id.
 */

/** A field's value: text, or null for a field the record leaves empty. */
export type FieldValue = string | null;

/** One record as the fake reports it (the snapshot's `records`). */
export interface FakeRecord {
  module: string;
  /** A 19-digit numeric string unless the test chose another. */
  id: string;
  /** Field API name → value. `id` is not among them. */
  fields: Record<string, FieldValue>;
}

/** What a test supplies to {@link RecordStore.add}. */
export interface NewFakeRecord {
  /** A module API name, e.g. `Contacts` (not checked: a query names modules, and is checked then). */
  module: string;
  /** Digits, at most 19. @defaultValue a fresh 19-digit id */
  id?: string;
  /** Field API name → value; each name becomes a field of the module. @defaultValue `{}` */
  fields?: Record<string, FieldValue>;
}

/** A record or field a test tried to add that makes no sense; the message says why. */
export class InvalidFakeRecordError extends Error {
  override readonly name = 'InvalidFakeRecordError';
}

/** Zoho record ids: digits, up to 19. */
const RECORD_ID_PATTERN = /^\d{1,19}$/;
/** A field API name as COQL takes it unquoted. */
const FIELD_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]*$/;
/** Another prefix than the attachments' so a record id is never an attachment id. */
const ID_PREFIX = '4150868001';
const FIRST_ID_SEQUENCE = 1;

/** Records and the fields of each module, in the order they were added. */
export class RecordStore {
  private readonly byModule = new Map<string, FakeRecord[]>();
  private readonly fieldsByModule = new Map<string, Set<string>>();
  /** Keeps counting across `clear()` so an id is never handed out twice. */
  private nextSequence = FIRST_ID_SEQUENCE;

  /**
   * Stores a record and returns it (a copy) with its id. Its field names become fields of the module.
   * @throws {InvalidFakeRecordError} for an id that is not digits or is taken in the module, or a bad field name
   */
  add(record: NewFakeRecord): FakeRecord {
    const fields = { ...record.fields };
    for (const [name, value] of Object.entries(fields)) {
      checkFieldName(name);
      if (value !== null && typeof value !== 'string') {
        throw new InvalidFakeRecordError(`field ${name}: a value must be a string or null`);
      }
    }
    const records = this.byModule.get(record.module) ?? [];
    let id = record.id;
    if (id === undefined) {
      do id = this.nextId();
      while (records.some((existing) => existing.id === id));
    }
    if (!RECORD_ID_PATTERN.test(id)) throw new InvalidFakeRecordError(`record id "${id}" is not 1 to 19 digits`);
    if (records.some((existing) => existing.id === id)) {
      throw new InvalidFakeRecordError(`${record.module} already has a record ${id}`);
    }
    const stored: FakeRecord = { module: record.module, id, fields };
    this.byModule.set(record.module, [...records, stored]);
    this.defineFields(record.module, Object.keys(fields));
    return copy(stored);
  }

  /**
   * Makes fields exist in a module without any record holding them, so a query naming them
   * finds nothing rather than failing INVALID_QUERY.
   * @throws {InvalidFakeRecordError} for a name COQL cannot take unquoted, or `id`
   */
  defineFields(module: string, names: readonly string[]): void {
    names.forEach(checkFieldName);
    const known = this.fieldsByModule.get(module) ?? new Set<string>();
    for (const name of names) known.add(name);
    this.fieldsByModule.set(module, known);
  }

  /** True for `id` and any field a record or {@link defineFields} gave the module. Names are case-sensitive. */
  hasField(module: string, name: string): boolean {
    return name === 'id' || (this.fieldsByModule.get(module)?.has(name) ?? false);
  }

  /** The module's records whose `field` holds a value `matches` accepts, oldest first. */
  find(module: string, field: string, matches: (value: string) => boolean): FakeRecord[] {
    return (this.byModule.get(module) ?? []).filter((record) => {
      const value = field === 'id' ? record.id : record.fields[field];
      return typeof value === 'string' && matches(value);
    });
  }

  /** Every record (copies), module by module. */
  all(): FakeRecord[] {
    return [...this.byModule.values()].flat().map(copy);
  }

  /** Forgets every record and field. */
  clear(): void {
    this.byModule.clear();
    this.fieldsByModule.clear();
  }

  private nextId(): string {
    const id = `${ID_PREFIX}${String(this.nextSequence).padStart(9, '0')}`;
    this.nextSequence += 1;
    return id;
  }
}

function checkFieldName(name: string): void {
  if (name === 'id') throw new InvalidFakeRecordError('id is the record id, not a field to set');
  if (!FIELD_NAME_PATTERN.test(name)) {
    throw new InvalidFakeRecordError(`field name "${name}" must be letters, digits and underscores, from a letter`);
  }
}

function copy(record: FakeRecord): FakeRecord {
  return { module: record.module, id: record.id, fields: { ...record.fields } };
}
