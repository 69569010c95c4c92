// trace_state: samples traces in which any span's W3C tracestate has `key` set to one of `values`.

import type { TraceStateConfig } from './config';
import { notSampled, sampled, type Decision, type PolicyEvaluator, type TraceView } from './types';

/** parseTraceStateValue returns the value of `key` in a W3C tracestate header value, or undefined. */
export function parseTraceStateValue(traceState: string, key: string): string | undefined {
  if (traceState === '') return undefined;
  for (const member of traceState.split(',')) {
    const eq = member.indexOf('=');
    if (eq < 0) continue;
    if (member.slice(0, eq).trim() === key) return member.slice(eq + 1).trim();
  }
  return undefined;
}

/** TraceState samples a trace when a span's tracestate holds key=value for a listed value. */
export class TraceState implements PolicyEvaluator {
  private readonly _values: ReadonlySet<string>;

  constructor(private readonly _cfg: TraceStateConfig) {
    this._values = new Set(_cfg.values);
  }

  evaluate(trace: TraceView): Decision {
    const key = this._cfg.key;
    for (const s of trace.spans) {
      const v = parseTraceStateValue(s.traceState, key);
      if (v !== undefined && this._values.has(v)) return sampled(`tracestate ${key}=${v}`, { key, value: v });
    }
    return notSampled(`no span has tracestate ${key} in [${this._cfg.values.join(', ')}]`, { key });
  }
}
