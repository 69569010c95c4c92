// Trace page: the waterfall (span tree with timing bars per service, errors marked, collapsible, rendered
// as a virtual list so a 2,000-span trace scrolls smoothly), the selected span's details, and beside them
// the sampling decision. A trace Jaeger does not have still opens, with the "dropped because" panel.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, getJson, type Decision, type KeyValue, type Span, type Trace } from '../api';
import { ErrorBox } from '../widgets';
import { fmtDate, fmtUs, serviceColor } from '../format';

const ROW = 24;
const OVERSCAN = 12;

interface Row {
  span: Span;
  depth: number;
  children: number;
}

/** flatten orders spans as a depth-first tree (children by start time), skipping collapsed subtrees. */
function flatten(spans: Span[], collapsed: ReadonlySet<string>): Row[] {
  const kids = new Map<string | null, Span[]>();
  for (const s of spans) {
    const list = kids.get(s.parentId);
    if (list) list.push(s);
    else kids.set(s.parentId, [s]);
  }
  for (const list of kids.values()) list.sort((a, b) => a.startUs - b.startUs);
  const out: Row[] = [];
  const stack: Array<{ span: Span; depth: number }> = (kids.get(null) ?? [])
    .slice()
    .reverse()
    .map((span) => ({ span, depth: 0 }));
  while (stack.length > 0) {
    const { span, depth } = stack.pop()!;
    const children = kids.get(span.spanId) ?? [];
    out.push({ span, depth, children: children.length });
    if (collapsed.has(span.spanId)) continue;
    for (let i = children.length - 1; i >= 0; i--) stack.push({ span: children[i], depth: depth + 1 });
  }
  return out;
}

function Waterfall({ trace, selected, onSelect }: { trace: Trace; selected: string; onSelect: (id: string) => void }) {
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const [top, setTop] = useState(0);
  const [height, setHeight] = useState(600);
  const box = useRef<HTMLDivElement>(null);
  const rows = useMemo(() => flatten(trace.spans, collapsed), [trace, collapsed]);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setHeight(el.clientHeight);
    measure();
    window.addEventListener('resize', measure);
    return () => window.removeEventListener('resize', measure);
  }, []);
  const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((top + height) / ROW) + OVERSCAN);
  const toggle = (id: string) => {
    const next = new Set(collapsed);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setCollapsed(next);
  };
  const total = Math.max(1, trace.durationUs);
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  return (
    <div class="waterfall" data-testid="waterfall" data-rows={rows.length}>
      <div class="wf-head">
        <div class="wf-name">
          Service: operation <span class="muted">({trace.spans.length} spans)</span>
        </div>
        <div class="wf-time">
          {ticks.map((t) => (
            <span key={t} style={{ left: `${t * 100}%` }}>
              {fmtUs(t * total)}
            </span>
          ))}
        </div>
      </div>
      <div class="wf-body" ref={box} onScroll={(e) => setTop((e.target as HTMLDivElement).scrollTop)}>
        <div style={{ height: `${rows.length * ROW}px`, position: 'relative' }}>
          {rows.slice(first, last).map((r, i) => {
            const s = r.span;
            const left = ((s.startUs - trace.startUs) / total) * 100;
            const width = Math.max(0.2, (s.durationUs / total) * 100);
            return (
              <div
                key={s.spanId}
                class={`wf-row${s.spanId === selected ? ' sel' : ''}${s.error ? ' err' : ''}`}
                data-testid="span-row"
                style={{ top: `${(first + i) * ROW}px` }}
                onClick={() => onSelect(s.spanId)}
              >
                <div class="wf-name" style={{ paddingLeft: `${6 + r.depth * 14}px` }}>
                  {r.children > 0 ? (
                    <button
                      class="tw"
                      title={collapsed.has(s.spanId) ? 'expand' : 'collapse'}
                      onClick={(e) => {
                        e.stopPropagation();
                        toggle(s.spanId);
                      }}
                    >
                      {collapsed.has(s.spanId) ? '▸' : '▾'}
                    </button>
                  ) : (
                    <span class="tw" />
                  )}
                  <span class="svc-dot" style={{ background: serviceColor(s.service) }} />
                  <span class="svc-name">{s.service}</span> <span>{s.operation}</span>
                  {s.error && <span class="badge err">error</span>}
                </div>
                <div class="wf-time">
                  <div
                    class="bar"
                    style={{
                      left: `${left}%`,
                      width: `${width}%`,
                      background: s.error ? '#d62728' : serviceColor(s.service),
                    }}
                  />
                  {left + width > 85 ? (
                    <span class="bar-label inside" style={{ right: `${100 - left - width}%` }}>
                      {fmtUs(s.durationUs)}
                    </span>
                  ) : (
                    <span class="bar-label" style={{ left: `${left + width}%` }}>
                      {fmtUs(s.durationUs)}
                    </span>
                  )}
                </div>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

function KvTable({ items }: { items: KeyValue[] }) {
  if (items.length === 0) return <p class="muted small">none</p>;
  return (
    <table class="kv">
      <tbody>
        {items.map((kv, i) => (
          <tr key={`${kv.key}${i}`}>
            <td>{kv.key}</td>
            <td class="mono">{String(kv.value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function SpanDetails({ span, trace }: { span: Span; trace: Trace }) {
  return (
    <div class="panel" data-testid="span-details">
      <h3>
        {span.service}: {span.operation}
      </h3>
      <table class="kv">
        <tbody>
          <tr>
            <td>span id</td>
            <td class="mono">{span.spanId}</td>
          </tr>
          <tr>
            <td>parent</td>
            <td class="mono">{span.parentId ?? '(root)'}</td>
          </tr>
          <tr>
            <td>start</td>
            <td>+{fmtUs(span.startUs - trace.startUs)}</td>
          </tr>
          <tr>
            <td>duration</td>
            <td>{fmtUs(span.durationUs)}</td>
          </tr>
          <tr>
            <td>kind</td>
            <td>{span.kind || 'unspecified'}</td>
          </tr>
          <tr>
            <td>status</td>
            <td class={span.status.code === 'ERROR' ? 'bad' : ''}>
              {span.status.code}
              {span.status.message && `: ${span.status.message}`}
            </td>
          </tr>
        </tbody>
      </table>
      <h4>Attributes</h4>
      <KvTable items={span.attributes} />
      <h4>Resource</h4>
      <KvTable items={span.resource} />
      <h4>Events</h4>
      {span.events.length === 0 ? (
        <p class="muted small">none</p>
      ) : (
        span.events.map((e, i) => (
          <div key={i}>
            <div class="small">+{fmtUs(e.timeUs - trace.startUs)}</div>
            <KvTable items={e.fields} />
          </div>
        ))
      )}
      <h4>Links</h4>
      {span.links.length === 0 ? (
        <p class="muted small">none</p>
      ) : (
        span.links.map((l, i) => (
          <div key={i} class="small mono">
            <a href={`#/trace/${l.traceId}`}>{l.traceId}</a> / {l.spanId} ({l.type})
          </div>
        ))
      )}
    </div>
  );
}

/** DecisionPanel explains the sampling decision (kept or dropped, by which policy, why, with what inputs). */
export function DecisionPanel({ decision, traceId }: { decision: Decision | null; traceId: string }) {
  if (decision === null) {
    return (
      <div class="panel decision" data-testid="decision-panel">
        <h3>Sampling decision</h3>
        <p class="muted">
          This collector has no decision for {traceId}: another collector decided it, or the decision has expired from
          the ledger.
        </p>
      </div>
    );
  }
  const kept = decision.decision === 'sampled';
  return (
    <div class={`panel decision ${kept ? 'kept' : 'dropped'}`} data-testid="decision-panel">
      <h3>
        Sampling decision: <span data-testid="decision-outcome">{kept ? 'kept' : 'dropped'}</span>
      </h3>
      <p data-testid="decision-sentence">
        {decision.policy === '(none)' ? (
          <>
            {kept ? 'Kept' : 'Dropped'} because <b data-testid="decision-policy">no policy</b> kept it:{' '}
            {decision.reason}
          </>
        ) : (
          <>
            {kept ? 'Kept' : 'Dropped'} by policy <b data-testid="decision-policy">{decision.policy}</b> because{' '}
            {decision.reason || 'of a decision recorded by another replica'}
          </>
        )}{' '}
        at {fmtDate(decision.decidedAt)}
        {decision.decidedBy ? (
          <>
            {' '}
            by replica <code>{decision.decidedBy}</code>
          </>
        ) : null}
        .
      </p>
      {decision.explanation && <p class="muted small">{decision.explanation}</p>}
      {decision.inputs && Object.keys(decision.inputs).length > 0 && (
        <>
          <h4>Inputs</h4>
          <KvTable items={Object.entries(decision.inputs).map(([key, value]) => ({ key, value }))} />
        </>
      )}
    </div>
  );
}

export function TracePage({ traceId }: { traceId: string }) {
  const [trace, setTrace] = useState<Trace | null>(null);
  const [decision, setDecision] = useState<Decision | null>(null);
  const [missing, setMissing] = useState<string | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const [selected, setSelected] = useState('');
  useEffect(() => {
    setTrace(null);
    setDecision(null);
    setMissing(null);
    setErr(null);
    getJson<{ trace: Trace; decision: Decision | null }>(`/v1/traces/${encodeURIComponent(traceId)}`).then(
      (r) => {
        setTrace(r.trace);
        setDecision(r.decision);
        setSelected((r.trace.spans.find((s) => s.parentId === null) ?? r.trace.spans[0]).spanId);
      },
      (e: unknown) => {
        if (e instanceof ApiError && e.status === 404 && e.body) {
          setMissing(typeof e.body.error === 'string' ? e.body.error : 'not found');
          setDecision((e.body.decision as Decision | null) ?? null);
        } else setErr(e);
      },
    );
  }, [traceId]);
  if (err)
    return (
      <div class="page">
        <h2>
          Trace <code>{traceId}</code>
        </h2>
        <ErrorBox err={err} />
      </div>
    );
  if (missing !== null) {
    return (
      <div class="page" data-testid="trace-missing">
        <h2>
          Trace <code>{traceId}</code>
        </h2>
        <div class="notice" data-testid="missing-reason">
          {missing}
        </div>
        <DecisionPanel decision={decision} traceId={traceId} />
      </div>
    );
  }
  if (!trace) return <p class="muted page">Loading trace {traceId}…</p>;
  const span = trace.spans.find((s) => s.spanId === selected);
  const errors = trace.spans.filter((s) => s.error).length;
  return (
    <div class="page trace-page" data-testid="trace-page">
      <h2>
        Trace <code>{trace.traceId}</code>
      </h2>
      <p class="muted">
        {fmtDate(trace.startUs / 1000)} · {fmtUs(trace.durationUs)} · {trace.spans.length} spans ·{' '}
        {trace.services.length} service{trace.services.length === 1 ? '' : 's'}
        {errors > 0 && (
          <span class="badge err">
            {errors} error{errors > 1 ? 's' : ''}
          </span>
        )}
      </p>
      <div class="trace-grid">
        <Waterfall trace={trace} selected={selected} onSelect={setSelected} />
        <div class="side">
          <DecisionPanel decision={decision} traceId={trace.traceId} />
          {span && <SpanDetails span={span} trace={trace} />}
        </div>
      </div>
    </div>
  );
}
