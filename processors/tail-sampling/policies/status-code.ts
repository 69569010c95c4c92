// status_code: samples traces in which any span has one of the configured status codes (ERROR, OK, UNSET).

import type { StatusCodeConfig, StatusCodeName } from './config';
import { notSampled, sampled, type Decision, type PolicyEvaluator, type TraceView } from './types';

const CODE_OF: Readonly<Record<StatusCodeName, 0 | 1 | 2>> = { UNSET: 0, OK: 1, ERROR: 2 };
const NAME_OF = ['UNSET', 'OK', 'ERROR'] as const;

/** StatusCode samples a trace when any of its spans has a listed status. */
export class StatusCode implements PolicyEvaluator {
  private readonly _codes: ReadonlySet<number>;
  private readonly _label: string;
  private readonly _errorOnly: boolean;

  constructor(cfg: StatusCodeConfig) {
    this._codes = new Set(cfg.codes.map((c) => CODE_OF[c]));
    this._label = cfg.codes.join('|');
    this._errorOnly = this._codes.size === 1 && this._codes.has(2);
  }

  evaluate(trace: TraceView): Decision {
    // ERROR only and no ERROR span: no span can match; skip the spans (a packed view then builds none).
    if (this._errorOnly && !trace.hasError)
      return notSampled(`no span has status ${this._label}`, { codes: this._label });
    for (const s of trace.spans) {
      if (this._codes.has(s.statusCode)) {
        return sampled(`span ${s.spanId} has status ${NAME_OF[s.statusCode]}`, {
          codes: this._label,
          span_id: s.spanId,
        });
      }
    }
    return notSampled(`no span has status ${this._label}`, { codes: this._label });
  }
}
