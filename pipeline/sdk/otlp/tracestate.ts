// OpenTelemetry consistent-probability sampling thresholds (`th`) in the W3C tracestate of spans: the
// probability <-> 56-bit rejection threshold conversions of the spec ("TraceState: Probability Sampling",
// OTEP 235, with the spec's precision rounding), a strict parser of the W3C tracestate list and of the
// OpenTelemetry `ot` entry, and TraceStateThreshold, which computes the new tracestate of a span kept by a
// sampling stage. stamp.ts calls it per span on the hot path; it caches the last input, so the spans of
// one trace (which share their tracestate) cost one parse.

/** MAX_THRESHOLD is 2^56 (the spec's MaxAdjustedCount): thresholds and randomness are 56-bit values. */
export const MAX_THRESHOLD = 1n << 56n;

/** THRESHOLD_HEX_DIGITS is the most hex digits a `th` value has (56 bits). */
export const THRESHOLD_HEX_DIGITS = 14;

/**
 * DEFAULT_THRESHOLD_PRECISION is the number of significant hex digits a written threshold keeps: 4, the
 * spec's recommended default (also the OTel Collector probabilistic sampler's `sampling_precision`).
 * The probability it encodes is within 0.01 % of the exact one (p = 0.1 -> `e666`, 0.100006...).
 */
export const DEFAULT_THRESHOLD_PRECISION = 4;

/** MIN_SAMPLING_PROBABILITY is 2^-56, the smallest probability a threshold can express. */
export const MIN_SAMPLING_PROBABILITY = 2 ** -56;

const TWO_POW_56 = 2 ** 56;

/**
 * frexpExponent returns e such that x = m * 2^e with m in [0.5, 1) (C frexp), for finite x > 0. Math.log2
 * can be one off next to powers of two, so the result is corrected with exact power-of-two divisions.
 */
function frexpExponent(x: number): number {
  let e = Math.floor(Math.log2(x)) + 1;
  if (x / 2 ** e >= 1) e++;
  else if (x / 2 ** e < 0.5) e--;
  return e;
}

/**
 * probabilityToThreshold converts a sampling probability to its rejection threshold, round((1 - p) * 2^56),
 * rounded half up to `precision` significant hex digits (1..14). Exactly the spec's reference algorithm
 * (tracestate-probability-sampling.md, "Converting floating-point probability to threshold value"): the
 * precision grows by one digit per leading `f` of small probabilities (`exp // -4` of frexp(p)), and a
 * threshold that rounds up to 2^56 becomes the largest one of that precision. The spec's Python caps the
 * precision at 12 digits because it works in doubles; this works on the exact integer 2^56 - round(p * 2^56)
 * (p * 2^56 is exact in a double), so it keeps up to 14.
 * Returns 0n for p = 1 (and for p so close to 1 that the threshold rounds to 0 at this precision), and
 * undefined when p is not in [2^-56, 1] (no threshold expresses it).
 */
export function probabilityToThreshold(p: number, precision = DEFAULT_THRESHOLD_PRECISION): bigint | undefined {
  if (!(p >= MIN_SAMPLING_PROBABILITY && p <= 1)) return undefined;
  if (p === 1) return 0n;
  const exact = MAX_THRESHOLD - BigInt(Math.round(p * TWO_POW_56));
  const digits = Math.max(1, Math.min(THRESHOLD_HEX_DIGITS, precision + Math.floor(frexpExponent(p) / -4)));
  if (digits === THRESHOLD_HEX_DIGITS) return exact;
  const shift = BigInt(4 * (THRESHOLD_HEX_DIGITS - digits));
  const rounded = ((exact + (1n << (shift - 1n))) >> shift) << shift;
  return rounded >= MAX_THRESHOLD ? MAX_THRESHOLD - (1n << shift) : rounded;
}

/** thresholdToProbability is (2^56 - t) / 2^56, the keep probability a threshold stands for. */
export function thresholdToProbability(t: bigint): number {
  return Number(MAX_THRESHOLD - t) / TWO_POW_56;
}

/** thresholdAdjustedCount is 2^56 / (2^56 - t): how many spans a span kept with threshold t stands for. */
export function thresholdAdjustedCount(t: bigint): number {
  return TWO_POW_56 / Number(MAX_THRESHOLD - t);
}

/** encodeThreshold renders a threshold as a `th` value: lowercase hex of 14 digits, trailing zeros removed ("0" for 0). */
export function encodeThreshold(t: bigint): string {
  if (t === 0n) return '0';
  return t.toString(16).padStart(THRESHOLD_HEX_DIGITS, '0').replace(/0+$/, '');
}

const TH_VALUE = /^[0-9a-fA-F]{1,14}$/;
const RV_VALUE = /^[0-9a-fA-F]{14}$/;

/** parseThreshold reads a `th` value (1..14 hex digits, implicitly padded with trailing zeros); undefined when invalid. */
export function parseThreshold(value: string): bigint | undefined {
  return TH_VALUE.test(value) ? BigInt(`0x${value.padEnd(THRESHOLD_HEX_DIGITS, '0')}`) : undefined;
}

/** parseRandomness reads an `rv` value (exactly 14 hex digits, a 56-bit number); undefined when invalid. */
export function parseRandomness(value: string): bigint | undefined {
  return RV_VALUE.test(value) ? BigInt(`0x${value}`) : undefined;
}

/** traceIdRandomness is the randomness a W3C trace id carries: its 56 low bits (the last 14 of 32 hex digits). */
export function traceIdRandomness(traceId: string): bigint {
  return BigInt(`0x${traceId.slice(-THRESHOLD_HEX_DIGITS)}`);
}

/**
 * OtSampling is what a span's tracestate says for consistent-probability sampling. `invalid` names what was
 * ignored (a malformed tracestate or `ot` entry, or a `th`/`rv` value that does not follow the spec).
 */
export interface OtSampling {
  readonly threshold?: bigint;
  readonly randomness?: bigint;
  readonly invalid?: string;
}

const NO_OT: OtSampling = {};

/**
 * readOtSampling reads the `th` (threshold) and `rv` (explicit randomness) sub-keys of the `ot` entry of a
 * W3C tracestate. Invalid parts are left out and named in `invalid`; never throws.
 */
export function readOtSampling(tracestate: string): OtSampling {
  if (tracestate === '' || !tracestate.includes('ot=')) return NO_OT;
  const members = parseTraceState(tracestate);
  if (members === undefined) return { invalid: 'tracestate is not a valid W3C list' };
  const ot = members.find((m) => m.key === 'ot');
  if (ot === undefined) return NO_OT;
  const entries = parseOtValue(ot.value);
  if (entries === undefined) return { invalid: `ot=${ot.value} is not a valid OpenTelemetry entry` };
  let threshold: bigint | undefined;
  let randomness: bigint | undefined;
  const bad: string[] = [];
  for (const e of entries) {
    if (e.key === 'th') {
      threshold = parseThreshold(e.value);
      if (threshold === undefined) bad.push(`th:${e.value} (1 to 14 hex digits)`);
    } else if (e.key === 'rv') {
      randomness = parseRandomness(e.value);
      if (randomness === undefined) bad.push(`rv:${e.value} (exactly 14 hex digits)`);
    }
  }
  return bad.length === 0 ? { threshold, randomness } : { threshold, randomness, invalid: bad.join(', ') };
}

/**
 * ThresholdRule is how TraceStateThreshold raises a span's existing threshold: "proportional" multiplies
 * the probabilities (a stage that decided with randomness of its own), "consistent" takes the larger
 * threshold (a stage that compared the trace's own randomness R with the stage threshold: R >= both).
 */
export type ThresholdRule = 'proportional' | 'consistent';

/**
 * combineThresholds is the threshold of a span kept by an upstream stage with threshold `upstream` and
 * then by this stage with threshold `stage`, where this stage decided with randomness independent of the
 * trace's (our trace-id hash is not the spec's randomness value R): the spec's proportional downstream
 * rule, probability p_stage x p_upstream, rounded to `precision`. Never lower than either input (a
 * downstream stage may raise a threshold, never lower it).
 */
export function combineThresholds(upstream: bigint, stage: bigint, precision = DEFAULT_THRESHOLD_PRECISION): bigint {
  if (upstream === 0n) return stage;
  const p = Math.max(MIN_SAMPLING_PROBABILITY, thresholdToProbability(stage) * thresholdToProbability(upstream));
  let t = probabilityToThreshold(p, precision) ?? MAX_THRESHOLD - 1n;
  if (t < upstream) t = upstream;
  if (t < stage) t = stage;
  return t;
}

// ---- W3C tracestate (https://www.w3.org/TR/trace-context/#tracestate-header) ----

/** MAX_TRACESTATE_MEMBERS is the W3C bound on list members. */
export const MAX_TRACESTATE_MEMBERS = 32;
/** MAX_OT_VALUE_LENGTH bounds the whole `ot` entry value (OTel tracestate handling). */
export const MAX_OT_VALUE_LENGTH = 256;

const SIMPLE_KEY = /^[a-z][a-z0-9_\-*/]{0,255}$/;
const TENANT_KEY = /^[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13}$/;
// value = 0*255(chr) nblk-chr; chr = %x20 / nblk-chr; nblk-chr = %x21-2B / %x2D-3C / %x3E-7E
const MEMBER_VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
// OTel `ot` entry: list-member *( ";" list-member ), list-member = key ":" value
const OT_KEY = /^[a-z][a-z0-9]*$/;
const OT_VALUE = /^[A-Za-z0-9._-]*$/;

/** TraceStateMember is one `key=value` member of a W3C tracestate list (OWS trimmed). */
export interface TraceStateMember {
  readonly key: string;
  readonly value: string;
}

/**
 * parseTraceState parses a W3C tracestate list strictly: members `key=value` separated by commas with
 * optional spaces or tabs, empty members allowed (and dropped), keys (simple or `tenant@system`) and values
 * by the W3C grammar, unique keys, at most 32 members. Returns undefined when the list is malformed.
 */
export function parseTraceState(text: string): TraceStateMember[] | undefined {
  const members: TraceStateMember[] = [];
  const seen = new Set<string>();
  for (const raw of text.split(',')) {
    const m = raw.replace(/^[ \t]+|[ \t]+$/g, '');
    if (m === '') continue;
    const eq = m.indexOf('=');
    if (eq <= 0) return undefined;
    const key = m.slice(0, eq);
    const value = m.slice(eq + 1);
    if (!(SIMPLE_KEY.test(key) || TENANT_KEY.test(key)) || !MEMBER_VALUE.test(value) || seen.has(key)) return undefined;
    seen.add(key);
    members.push({ key, value });
  }
  return members.length > MAX_TRACESTATE_MEMBERS ? undefined : members;
}

/** parseOtValue parses the value of the `ot` entry into its `key:value` sub-entries; undefined when malformed. */
export function parseOtValue(value: string): TraceStateMember[] | undefined {
  if (value.length > MAX_OT_VALUE_LENGTH) return undefined;
  const entries: TraceStateMember[] = [];
  const seen = new Set<string>();
  for (const item of value.split(';')) {
    const colon = item.indexOf(':');
    if (colon <= 0) return undefined;
    const key = item.slice(0, colon);
    const v = item.slice(colon + 1);
    if (!OT_KEY.test(key) || !OT_VALUE.test(v) || seen.has(key)) return undefined;
    seen.add(key);
    entries.push({ key, value: v });
  }
  return entries;
}

/** What TraceStateThreshold did to one span's tracestate. */
export type ThresholdOutcome =
  /** `th` was written or raised. */
  | 'stamped'
  /** The span already carries a threshold at least as high: left as it is. */
  | 'unchanged'
  /** The tracestate (or its `ot` entry) does not follow the grammar: left as it is. */
  | 'malformed'
  /** Adding `ot` would exceed 32 members, or the `ot` value would exceed 256 characters: left as it is. */
  | 'full';

/**
 * TraceStateThreshold writes one sampling stage's threshold into span tracestates: `ot=th:<hex>` on a span
 * without tracestate; otherwise the `ot` entry's `th` is set to combineThresholds(existing, stage), or with
 * the "consistent" rule to max(existing, stage) (other `ot` sub-keys such as `rv` kept in order), the `ot`
 * member moves to the front (W3C: a modified member goes first) and every other member keeps its text and
 * order (OWS and empty members are dropped). A malformed tracestate, or one that has no room, is left
 * untouched and counted. Counts are per span.
 * It keeps a one-entry cache of the last input and its counters: make one per trace (or stamping call).
 */
export class TraceStateThreshold {
  /** Spans per outcome. */
  readonly counts: Record<ThresholdOutcome, number> = { stamped: 0, unchanged: 0, malformed: 0, full: 0 };
  /** The tracestate bytes of a span that has none: `ot=th:<stage threshold>`. */
  private readonly _forEmpty: Uint8Array;
  private readonly _stage: bigint;
  private readonly _precision: number;
  private readonly _rule: ThresholdRule;
  private _lastInput: Uint8Array | undefined;
  private _lastOutput: Uint8Array | undefined;
  private _lastOutcome: ThresholdOutcome = 'stamped';

  /**
   * @param stage the stage's threshold, 0 < stage < 2^56 (a stage that keeps everything writes nothing).
   * @param rule how an existing `th` is raised (default "proportional").
   */
  constructor(stage: bigint, precision = DEFAULT_THRESHOLD_PRECISION, rule: ThresholdRule = 'proportional') {
    if (stage <= 0n || stage >= MAX_THRESHOLD) throw new RangeError(`sampling threshold ${stage} is not in (0, 2^56)`);
    this._stage = stage;
    this._precision = precision;
    this._rule = rule;
    this._forEmpty = Buffer.from(`ot=th:${encodeThreshold(stage)}`, 'latin1');
  }

  /** The `th` value this stage writes on spans without a threshold. */
  get stageValue(): string {
    return encodeThreshold(this._stage);
  }

  /** forAbsent returns the tracestate bytes for a span without one (`ot=th:<stage>`), counted as stamped. */
  forAbsent(): Uint8Array {
    this.counts.stamped++;
    return this._forEmpty;
  }

  /**
   * rewrite returns the new tracestate bytes for a span whose tracestate is buf[start, end), or undefined
   * to leave the field as it is. An empty tracestate is treated as absent. Counts the outcome.
   */
  rewrite(buf: Uint8Array, start: number, end: number): Uint8Array | undefined {
    if (end === start) return this.forAbsent();
    const last = this._lastInput;
    if (last !== undefined && last.length === end - start && sameBytes(buf, start, last)) {
      this.counts[this._lastOutcome]++;
      return this._lastOutput;
    }
    const { outcome, text } = this.rewriteText(
      Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1'),
    );
    this._lastInput = buf.slice(start, end);
    this._lastOutput = text === undefined ? undefined : Buffer.from(text, 'latin1');
    this._lastOutcome = outcome;
    this.counts[outcome]++;
    return this._lastOutput;
  }

  /** rewriteText is rewrite on a decoded tracestate string (not counted, not cached). `text` is unset when unchanged. */
  rewriteText(tracestate: string): { outcome: ThresholdOutcome; text?: string } {
    const members = parseTraceState(tracestate);
    if (members === undefined) return { outcome: 'malformed' };
    if (members.length === 0) return { outcome: 'stamped', text: `ot=th:${encodeThreshold(this._stage)}` };
    const otIndex = members.findIndex((m) => m.key === 'ot');
    let ot: TraceStateMember[] = [];
    if (otIndex >= 0) {
      const parsed = parseOtValue(members[otIndex].value);
      if (parsed === undefined) return { outcome: 'malformed' };
      ot = parsed;
    } else if (members.length >= MAX_TRACESTATE_MEMBERS) {
      return { outcome: 'full' };
    }
    const thIndex = ot.findIndex((e) => e.key === 'th');
    let threshold = this._stage;
    if (thIndex >= 0) {
      const upstream = parseThreshold(ot[thIndex].value);
      if (upstream === undefined) return { outcome: 'malformed' };
      if (this._rule === 'proportional') threshold = combineThresholds(upstream, this._stage, this._precision);
      else if (upstream > this._stage) threshold = upstream;
      if (threshold <= upstream) return { outcome: 'unchanged' };
    }
    const th = { key: 'th', value: encodeThreshold(threshold) };
    const otEntries = thIndex >= 0 ? ot.map((e, i) => (i === thIndex ? th : e)) : [th, ...ot];
    const otValue = otEntries.map((e) => `${e.key}:${e.value}`).join(';');
    if (otValue.length > MAX_OT_VALUE_LENGTH) return { outcome: 'full' };
    const others = members
      .filter((_, i) => i !== otIndex)
      .map((m) => `,${m.key}=${m.value}`)
      .join('');
    return { outcome: 'stamped', text: `ot=${otValue}${others}` };
  }
}

function sameBytes(buf: Uint8Array, start: number, other: Uint8Array): boolean {
  for (let i = 0; i < other.length; i++) if (buf[start + i] !== other[i]) return false;
  return true;
}
