// The values an OTTL condition computes with, and its run-time errors: ints are bigint (int64), floats
// number, nil null, byte strings OttlBytes (a bytes literal, or a trace/span id).

import type { AttributeValue, SpanSummary } from '../types';

/**
 * OttlBytes is a byte string: a `0x...` literal, or an id (a trace_id/span_id path, TraceID(), SpanID()).
 * Ids compare with ids by == and != only (OTTL compares pcommon.TraceID by equality), literals with literals
 * byte-wise; an id never equals a literal.
 */
export class OttlBytes {
  constructor(
    /** Lowercase hex. */
    readonly hex: string,
    readonly id: boolean,
  ) {}

  /** asId is the same bytes as an id (TraceID(0x...), SpanID(0x...)). */
  asId(): OttlBytes {
    return new OttlBytes(this.hex, true);
  }
}

/** OttlValue is a value during evaluation. */
export type OttlValue = string | number | bigint | boolean | null | OttlBytes;

/** OttlEvalError is a run-time failure of a condition (e.g. math on a string attribute). */
export class OttlEvalError extends Error {
  readonly code: string = 'ERR_OTTL_EVAL';
  constructor(message: string) {
    super(message);
    this.name = 'OttlEvalError';
  }
}

/** OttlTypeError is an argument of the wrong type (OTTL's TypeError): IsString & co answer false to it. */
export class OttlTypeError extends OttlEvalError {
  override readonly code = 'ERR_OTTL_TYPE';
  constructor(message: string) {
    super(message);
    this.name = 'OttlTypeError';
  }
}

/** OttlEvent is the span event a spanevent condition looks at. */
export interface OttlEvent {
  readonly name: string;
  readonly timeUs: number;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
}

/** OttlTarget is what a condition reads: the span, and for spanevent conditions the event. */
export interface OttlTarget {
  readonly span: SpanSummary;
  readonly event?: OttlEvent;
}
