// Sampling page: per policy kept/dropped traces/s now and over 15 minutes; per (service, operation) the live
// P50/P95/P99 and the latency policies' thresholds; per service the error state; throughput targets; and
// a live stream of recent decisions (pushed by /v1/decisions/stream, polled when the stream fails), filterable
// by outcome and policy, each linking to its trace.

import { useEffect, useState } from 'preact/hooks';
import type { Decision, SamplerFigures } from '../api';
import { Chart } from '../chart';
import { ErrorBox, usePoll } from '../widgets';
import { fmtRate, fmtTime, fmtUs, serviceColor } from '../format';

function Sampler({ s }: { s: SamplerFigures }) {
  return (
    <section data-testid="sampler">
      <h3>
        {s.id}{' '}
        <span class="muted">
          state: {s.state}
          {s.replicaId ? `, replica ${s.replicaId}` : ''}
        </span>
      </h3>
      <p>
        Now: <b class="ok">{fmtRate(s.keptPerSec)}</b> kept, <b>{fmtRate(s.droppedPerSec)}</b> dropped traces ·{' '}
        {s.buffer.traces} traces buffered
      </p>
      <table class="grid" data-testid="policy-table">
        <thead>
          <tr>
            <th>Policy</th>
            <th>Type</th>
            <th>Kept/s</th>
            <th>Dropped/s</th>
          </tr>
        </thead>
        <tbody>
          {s.policies.map((p) => (
            <tr key={p.name}>
              <td>{p.name}</td>
              <td>{p.type}</td>
              <td>{fmtRate(p.keptPerSec)}</td>
              <td>{fmtRate(p.droppedPerSec)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h4>Kept traces/s per policy, last 15 minutes</h4>
      <Chart
        lines={s.policies
          .filter((p) => p.name !== '(none)')
          .map((p) => ({ label: p.name, color: serviceColor(p.name), points: p.kept15m }))}
      />
      <h4>Dropped traces/s, last 15 minutes</h4>
      <Chart
        lines={s.policies
          .filter((p) => p.dropped15m.some((x) => x.v > 0) || p.name === '(none)')
          .map((p) => ({ label: p.name, color: serviceColor(p.name), points: p.dropped15m }))}
      />
      <h4>Latency per (service, operation)</h4>
      {s.latency.length === 0 ? (
        <p class="muted">No root spans decided yet.</p>
      ) : (
        <table class="grid" data-testid="latency-table">
          <thead>
            <tr>
              <th>Service</th>
              <th>Operation</th>
              <th>P50</th>
              <th>P95</th>
              <th>P99</th>
              <th>Observations</th>
              {s.latency[0].thresholds.map((t) => (
                <th key={t.policy}>Threshold ({t.policy})</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {s.latency.map((l) => (
              <tr key={`${l.service}/${l.operation}`} data-testid="latency-row">
                <td>{l.service}</td>
                <td>{l.operation}</td>
                <td>{fmtUs(l.p50Us)}</td>
                <td data-testid="p95">{fmtUs(l.p95Us)}</td>
                <td>{fmtUs(l.p99Us)}</td>
                <td>{l.count}</td>
                {l.thresholds.map((t) => (
                  <td key={t.policy}>
                    {t.thresholdUs === null ? <span class="muted">too few observations</span> : fmtUs(t.thresholdUs)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h4>Error state per service</h4>
      {s.services.length === 0 ? (
        <p class="muted">No services seen yet.</p>
      ) : (
        <table class="grid">
          <thead>
            <tr>
              <th>Service</th>
              <th>Error rate</th>
              <th>Baseline</th>
              <th>Boost</th>
              <th>Until</th>
            </tr>
          </thead>
          <tbody>
            {s.services.map((e) => (
              <tr key={e.service} class={e.degraded ? 'has-error' : ''}>
                <td>{e.service}</td>
                <td>{(e.errorRate * 100).toFixed(1)}%</td>
                <td>{(e.baseline * 100).toFixed(1)}%</td>
                <td>
                  {e.degraded ? (
                    <span class="badge err">boost x{e.boost.toFixed(1)} active</span>
                  ) : (
                    <span class="muted">off</span>
                  )}
                </td>
                <td data-testid="boost-until">
                  {e.boostUntil === null ? (
                    <span class="muted">—</span>
                  ) : e.aboveThreshold ? (
                    <span title="the end moves on while the error rate stays above the threshold">
                      at least {fmtTime(e.boostUntil)} (errors ongoing)
                    </span>
                  ) : (
                    <span>{fmtTime(e.boostUntil)} (decaying)</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {s.targets.length > 0 && (
        <>
          <h4>Throughput targets (cluster-wide; kept by any policy)</h4>
          <table class="grid">
            <thead>
              <tr>
                <th>Policy</th>
                <th>Key</th>
                <th>Target kept/s</th>
                <th>Seen/s</th>
                <th>Actual kept/s</th>
              </tr>
            </thead>
            <tbody>
              {s.targets.map((t) => (
                <tr key={`${t.policy}${t.key}`} data-testid="target-row">
                  <td>{t.policy}</td>
                  <td>{t.key}</td>
                  <td>{fmtRate(t.targetPerSec)}</td>
                  <td>{t.seenPerSec === null ? '—' : fmtRate(t.seenPerSec)}</td>
                  <td data-testid="kept-actual">{t.keptPerSec === null ? '—' : fmtRate(t.keptPerSec)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

/** How many decisions the live list shows. */
const SHOWN = 50;

/**
 * useDecisions follows /v1/decisions/stream (Server-Sent Events) and falls back to polling /v1/decisions every
 * 2 s when the stream fails (refused, proxy without streaming); `via` says which one is in use.
 */
function useDecisions(outcome: string, policy: string): { decisions: Decision[]; err: unknown; via: string } {
  const [decisions, setDecisions] = useState<Decision[]>([]);
  const [via, setVia] = useState('stream');
  const q = new URLSearchParams({ limit: String(SHOWN) });
  if (outcome) q.set('outcome', outcome);
  if (policy) q.set('policy', policy);
  const polled = usePoll<{ decisions: Decision[] }>(`/v1/decisions?${q.toString()}`, 2000, via === 'polling');
  useEffect(() => {
    setDecisions([]);
    if (typeof EventSource === 'undefined') {
      setVia('polling');
      return;
    }
    setVia('stream');
    const sq = new URLSearchParams({ backlog: String(SHOWN) });
    if (outcome) sq.set('outcome', outcome);
    if (policy) sq.set('policy', policy);
    const es = new EventSource(`/v1/decisions/stream?${sq.toString()}`);
    let opened = false;
    es.addEventListener('hello', () => (opened = true));
    es.onmessage = (ev: MessageEvent<string>) => {
      const batch = (JSON.parse(ev.data) as { decisions: Decision[] }).decisions;
      setDecisions((old) => {
        // A reconnect sends the backlog again: keep each decision once.
        const seen = new Set<string>();
        return [...batch.slice().reverse(), ...old]
          .filter((d) => !seen.has(d.traceId + d.decidedAt) && seen.add(d.traceId + d.decidedAt))
          .slice(0, SHOWN);
      });
    };
    es.onerror = () => {
      // A stream that never opened (503 past the limit, 401) or dropped for good: poll instead.
      if (!opened || es.readyState === EventSource.CLOSED) {
        es.close();
        setVia('polling');
      }
    };
    return () => es.close();
  }, [outcome, policy]);
  if (via === 'polling') return { decisions: polled.data?.decisions ?? [], err: polled.err, via };
  return { decisions, err: null, via };
}

function DecisionStream({ policies }: { policies: string[] }) {
  const [outcome, setOutcome] = useState('');
  const [policy, setPolicy] = useState('');
  const { decisions, err, via } = useDecisions(outcome, policy);
  return (
    <section data-testid="decision-stream">
      <h3>
        Recent decisions{' '}
        <span class="muted small" data-testid="stream-via">
          {via === 'stream' ? 'live (pushed)' : 'polling every 2 s'}
        </span>
      </h3>
      <div class="filters">
        <label>
          Outcome{' '}
          <select name="outcome" value={outcome} onChange={(e) => setOutcome((e.target as HTMLSelectElement).value)}>
            <option value="">all</option>
            <option value="sampled">kept</option>
            <option value="not_sampled">dropped</option>
          </select>
        </label>
        <label>
          Policy{' '}
          <select name="policy" value={policy} onChange={(e) => setPolicy((e.target as HTMLSelectElement).value)}>
            <option value="">all</option>
            {policies.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
      </div>
      {err !== null && <ErrorBox err={err} />}
      <table class="grid decisions">
        <thead>
          <tr>
            <th>Time</th>
            <th>Outcome</th>
            <th>Policy</th>
            <th>Root</th>
            <th>Duration</th>
            <th>Reason</th>
          </tr>
        </thead>
        <tbody>
          {decisions.map((d) => (
            <tr key={d.traceId + d.decidedAt} data-testid="decision-row">
              <td class="nowrap">{fmtTime(d.decidedAt)}</td>
              <td>
                <span class={`badge ${d.decision === 'sampled' ? 'kept' : 'drop'}`}>
                  {d.decision === 'sampled' ? 'kept' : 'dropped'}
                </span>
              </td>
              <td>{d.policy}</td>
              <td>
                <a href={`#/trace/${d.traceId}`}>
                  {d.service ?? '?'}: {d.operation ?? ''}
                </a>
              </td>
              <td>{d.rootDurationUs === undefined ? '' : fmtUs(d.rootDurationUs)}</td>
              <td class="small">{d.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function SamplingPage() {
  const { data, err } = usePoll<{ processors: SamplerFigures[] }>('/v1/sampling', 5000);
  return (
    <div class="page" data-testid="sampling-page">
      <h2>Sampling</h2>
      {err !== null && <ErrorBox err={err} />}
      {data && data.processors.length === 0 && (
        <p class="muted">No sampling processor runs in this process (an ingest tier?).</p>
      )}
      {data?.processors.map((s) => (
        <Sampler key={s.id} s={s} />
      ))}
      {data && data.processors.length > 0 && (
        <DecisionStream policies={data.processors.flatMap((s) => s.policies.map((p) => p.name))} />
      )}
    </div>
  );
}
