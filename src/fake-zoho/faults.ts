/**
 * Scripted faults: rules that pick calls (by route, method, module, record) and make them
 * fail in a chosen way, a number of times, with a probability. Rules are tried in the
 * order they were added; the first that fires decides.
 */

/** What a fault does to a call. */
export const FAULT_KINDS = [
  /** Answer 500 INTERNAL_ERROR without handling the call. */
  'error500',
  /** Answer 429 TOO_MANY_REQUESTS without handling the call. */
  'error429',
  /** Answer 403 NO_PERMISSION without handling the call. */
  'noPermission',
  /** Answer 400 AUTHORIZATION_FAILED without handling the call. */
  'authorizationFailed',
  /** Never answer: the connection stays open until the client gives up or the fake closes. */
  'hang',
  /** Destroy the connection without answering. */
  'reset',
  /** Handle the call (an upload stores its attachment), then answer 500 INTERNAL_ERROR instead. */
  'storeThen500',
  /** Handle the call (an upload stores its attachment), then destroy the connection. */
  'resetAfterStore',
  /**
   * An upload is read whole but not answered (the client gives up), and its attachment is
   * stored `delayMs` later: Zoho storing a POST after the client timed out.
   */
  'lateStore',
] as const;

/** One of {@link FAULT_KINDS}. */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The routes a rule can target (`coql`: the Query API, whose module is in the body, so `match.module` never fits it). */
export const FAULT_PATHS = ['upload', 'list', 'download', 'delete', 'coql', 'token'] as const;

/** One of {@link FAULT_PATHS}. */
export type FaultPath = (typeof FAULT_PATHS)[number];

const FAULT_METHODS = ['POST', 'GET', 'DELETE'] as const;

/** Which calls a rule applies to; every field given must match, none given matches every call. */
export interface FaultMatch {
  module?: string;
  recordId?: string;
  method?: (typeof FAULT_METHODS)[number];
  path?: FaultPath;
}

/** A scripted fault. */
export interface FaultRule {
  match?: FaultMatch;
  kind: FaultKind;
  /**
   * How many calls it fires on, then it is gone. Over HTTP, `null` means Infinity (what
   * `JSON.stringify` makes of it).
   * @defaultValue `1`
   */
  times?: number;
  /**
   * Chance (0..1) that it fires on a matching call; a call it spares does not use up `times`.
   * @defaultValue `1`
   */
  probability?: number;
  /**
   * Matching calls to let through before it starts firing ("fail the third upload").
   * @defaultValue `0`
   */
  skip?: number;
  /** `lateStore` only: how long after the request the attachment is stored. @defaultValue `2000` */
  delayMs?: number;
}

/** A fault that fired: its kind, and the delay of a `lateStore`. */
export interface FiredFault {
  kind: FaultKind;
  delayMs: number;
}

/** The delay of a `lateStore` without one. */
export const DEFAULT_LATE_STORE_MS = 2_000;

/** What the fault book knows about a call. */
export interface FaultContext {
  path: FaultPath;
  method: string;
  module?: string;
  recordId?: string;
}

/** A fault rule that does not make sense; the message says which field. */
export class InvalidFaultRuleError extends Error {
  override readonly name = 'InvalidFaultRuleError';
}

interface ActiveRule {
  id: string;
  match: FaultMatch;
  kind: FaultKind;
  timesLeft: number;
  probability: number;
  skipsLeft: number;
  delayMs: number;
}

/** The fake's fault rules. */
export class FaultBook {
  private rules: ActiveRule[] = [];
  private nextId = 1;
  private firedByKind = emptyFiredCounts();

  /** Adds a rule (already validated by {@link validateFaultRule}) and returns its id. */
  add(rule: FaultRule): string {
    const id = `fault-${this.nextId}`;
    this.nextId += 1;
    this.rules.push({
      id,
      match: rule.match ?? {},
      kind: rule.kind,
      timesLeft: rule.times ?? 1,
      probability: rule.probability ?? 1,
      skipsLeft: rule.skip ?? 0,
      delayMs: rule.delayMs ?? DEFAULT_LATE_STORE_MS,
    });
    return id;
  }

  /** Removes one rule; false when there was no such rule (left). */
  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((rule) => rule.id !== id);
    return this.rules.length < before;
  }

  /** Removes every rule. */
  clear(): void {
    this.rules = [];
  }

  /** Forgets the rules and how often each kind fired. */
  reset(): void {
    this.clear();
    this.firedByKind = emptyFiredCounts();
  }

  /** The fault to apply to this call, if one fires; it is counted and used up. */
  take(call: FaultContext): FiredFault | undefined {
    for (const rule of this.rules) {
      if (!matches(rule.match, call)) continue;
      if (rule.skipsLeft > 0) {
        rule.skipsLeft -= 1;
        continue;
      }
      if (Math.random() >= rule.probability) continue;
      rule.timesLeft -= 1;
      if (rule.timesLeft <= 0) this.remove(rule.id);
      this.firedByKind[rule.kind] += 1;
      return { kind: rule.kind, delayMs: rule.delayMs };
    }
    return undefined;
  }

  /** How often each kind fired. */
  fired(): Record<FaultKind, number> {
    return { ...this.firedByKind };
  }
}

function matches(match: FaultMatch, call: FaultContext): boolean {
  return (
    (match.path === undefined || match.path === call.path) &&
    (match.method === undefined || match.method === call.method) &&
    (match.module === undefined || match.module === call.module) &&
    (match.recordId === undefined || match.recordId === call.recordId)
  );
}

function emptyFiredCounts(): Record<FaultKind, number> {
  return Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>;
}

/**
 * Checks a rule from code or from JSON (where `times: null` stands for Infinity) and returns
 * it typed. Throws {@link InvalidFaultRuleError} naming the first bad field.
 */
export function validateFaultRule(input: unknown): FaultRule {
  if (!isObject(input)) throw new InvalidFaultRuleError('a fault rule must be an object');
  const { kind, match, times, probability, skip, delayMs } = input;
  if (!isOneOf(kind, FAULT_KINDS)) {
    throw new InvalidFaultRuleError(`kind must be one of ${FAULT_KINDS.join(', ')}`);
  }
  const rule: FaultRule = { kind };

  if (match !== undefined) {
    if (!isObject(match)) throw new InvalidFaultRuleError('match must be an object');
    const { module, recordId, method, path } = match;
    if (module !== undefined && typeof module !== 'string') {
      throw new InvalidFaultRuleError('match.module must be a string');
    }
    if (recordId !== undefined && typeof recordId !== 'string') {
      throw new InvalidFaultRuleError('match.recordId must be a string');
    }
    if (method !== undefined && !isOneOf(method, FAULT_METHODS)) {
      throw new InvalidFaultRuleError(`match.method must be one of ${FAULT_METHODS.join(', ')}`);
    }
    if (path !== undefined && !isOneOf(path, FAULT_PATHS)) {
      throw new InvalidFaultRuleError(`match.path must be one of ${FAULT_PATHS.join(', ')}`);
    }
    rule.match = { module, recordId, method, path };
  }

  if (times === null) rule.times = Infinity;
  else if (times !== undefined) {
    if (typeof times !== 'number' || !(times >= 1) || (!Number.isInteger(times) && times !== Infinity)) {
      throw new InvalidFaultRuleError('times must be a whole number of at least 1, or Infinity');
    }
    rule.times = times;
  }
  if (probability !== undefined) {
    if (typeof probability !== 'number' || !(probability >= 0 && probability <= 1)) {
      throw new InvalidFaultRuleError('probability must be a number from 0 to 1');
    }
    rule.probability = probability;
  }
  if (skip !== undefined) {
    if (typeof skip !== 'number' || !Number.isInteger(skip) || skip < 0) {
      throw new InvalidFaultRuleError('skip must be a whole number of at least 0');
    }
    rule.skip = skip;
  }
  if (delayMs !== undefined) {
    if (typeof delayMs !== 'number' || !Number.isInteger(delayMs) || delayMs < 0) {
      throw new InvalidFaultRuleError('delayMs must be a whole number of milliseconds, at least 0');
    }
    rule.delayMs = delayMs;
  }
  return rule;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isOneOf<T extends string>(value: unknown, allowed: readonly T[]): value is T {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value);
}
