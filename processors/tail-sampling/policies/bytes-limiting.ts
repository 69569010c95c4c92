// bytes_limiting: lets at most bytes_per_second of traces through, as a token bucket of burst_capacity
// bytes (default twice the rate) that starts full, like the Collector's (golang.org/x/time/rate AllowN). A
// trace costs its encoded size: the sum of its spans' encoded sizes plus 3 bytes of framing per span (the
// Collector counts the protobuf size of its batches, which adds the resource and scope once per batch; the
// two differ by a few percent). A trace larger than the bucket never passes. Local to this replica.

import type { BytesLimitingConfig } from './config';
import { notSampled, sampled, type Decision, type PolicyEvaluator, type TraceView } from './types';

/** SPAN_FRAMING_BYTES is the field tag and length prefix around each encoded span (typical). */
const SPAN_FRAMING_BYTES = 3;

/** BytesLimiting samples traces while the local token bucket holds their size in bytes. */
export class BytesLimiting implements PolicyEvaluator {
  private readonly _rate: number;
  private readonly _burst: number;
  private _tokens: number;
  private _lastMs: number;

  constructor(
    cfg: BytesLimitingConfig,
    private readonly _now: () => number,
  ) {
    this._rate = cfg.bytes_per_second;
    this._burst = cfg.burst_capacity ?? cfg.bytes_per_second * 2;
    this._tokens = this._burst;
    this._lastMs = _now();
  }

  evaluate(trace: TraceView): Decision {
    const now = this._now();
    this._tokens = Math.min(this._burst, this._tokens + (Math.max(0, now - this._lastMs) / 1000) * this._rate);
    this._lastMs = now;
    let cost = 0;
    for (const s of trace.spans) cost += (s.sizeBytes ?? 0) + SPAN_FRAMING_BYTES;
    const inputs = {
      bytes_per_second: this._rate,
      burst_capacity: this._burst,
      cost_bytes: cost,
      tokens: Math.floor(this._tokens),
    };
    if (cost <= this._tokens) {
      this._tokens -= cost;
      return sampled(`${cost} bytes within ${this._rate} bytes/s (local)`, inputs);
    }
    return notSampled(`${cost} bytes over ${this._rate} bytes/s (local)`, inputs);
  }
}
