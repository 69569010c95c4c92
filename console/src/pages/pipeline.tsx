// Pipeline page: the graph of the loaded config (receivers -> processors -> exporters per pipeline) with
// live rates on each edge, buffered traces and bytes, decision lag, Kafka consumer lag, the health of
// Kafka, Redis and each exporter with the reason when not ready, charts of the last 15 minutes, and in a
// cluster the replica you are looking at with the others (links to their consoles, stale ones marked).

import { Fragment } from 'preact';
import type { GraphNode, PipelineView, Replicas } from '../api';
import { Chart } from '../chart';
import { ErrorBox, usePoll } from '../widgets';
import { fmtBytes, fmtDate, fmtRate } from '../format';

const RATE_LABELS: Record<string, string> = {
  accepted: 'accepted',
  refused: 'refused',
  consumed: 'consumed msgs',
  kept: 'kept',
  dropped: 'dropped',
  exported: 'exported',
  failed: 'failed',
};
const UNITS: Record<string, string> = {
  accepted: 'spans',
  refused: 'spans',
  consumed: 'msgs',
  kept: 'traces',
  dropped: 'traces',
  exported: 'spans',
  failed: 'spans',
};

function Node({ n }: { n: GraphNode }) {
  const state = n.degraded ? 'degraded' : !n.ready ? 'down' : 'up';
  return (
    <div class={`node ${state}`} data-testid="graph-node" title={n.detail}>
      <div class="node-kind">{n.kind}</div>
      <div class="node-name">
        {n.name}
        {n.type !== n.name && <span class="muted"> ({n.type})</span>}
      </div>
      <div class={`small ${state === 'up' ? 'muted' : 'bad'}`}>
        {state === 'up' ? 'ready' : state}
        {n.detail ? `: ${n.detail}` : ''}
      </div>
      {n.kind === 'exporter' &&
        Object.entries(n.rates).map(([k, v]) => (
          <div key={k} class={`small ${k === 'failed' && v > 0 ? 'bad' : ''}`} data-rate={k}>
            <b>
              {RATE_LABELS[k] ?? k} {fmtRate(v)}
            </b>{' '}
            {n.type === 'kafka' ? 'msgs' : (UNITS[k] ?? '')}
          </div>
        ))}
    </div>
  );
}

function Edge({ from }: { from: GraphNode[] }) {
  const rates: Record<string, number> = {};
  for (const n of from) for (const [k, v] of Object.entries(n.rates)) rates[k] = (rates[k] ?? 0) + v;
  const all = Object.entries(rates);
  const nonZero = all.filter(([, v]) => v > 0);
  const shown = nonZero.length > 0 ? nonZero : all.slice(0, 1);
  return (
    <div class="edge" data-testid="graph-edge">
      {shown.map(([k, v]) => (
        <div key={k} class={`small ${(k === 'refused' || k === 'failed') && v > 0 ? 'bad' : ''}`} data-rate={k}>
          {RATE_LABELS[k] ?? k} {fmtRate(v)} {UNITS[k] ?? ''}
        </div>
      ))}
      <div class="arrow">→</div>
    </div>
  );
}

/** The replica you are looking at and the others of the cluster (announced in Redis), with links to their consoles. */
function ReplicaList() {
  const { data, err } = usePoll<Replicas>('/v1/replicas', 10_000);
  if (err !== null) return <ErrorBox err={err} />;
  if (!data) return null;
  if (!data.available) {
    return (
      <section data-testid="replicas">
        <h3>Replicas</h3>
        <p class="muted" data-testid="replicas-none">
          {data.reason}
        </p>
      </section>
    );
  }
  const others = data.replicas.filter((r) => !r.self);
  return (
    <section data-testid="replicas">
      <h3>
        Replicas <span class="muted small">you are looking at {data.self.id}</span>
      </h3>
      {data.error !== null && (
        <div class="error" role="alert">
          The list may be out of date: {data.error}
        </div>
      )}
      <table class="grid">
        <thead>
          <tr>
            <th>Replica</th>
            <th>Pipelines</th>
            <th>Host</th>
            <th>Version</th>
            <th>Started</th>
            <th>Last seen</th>
            <th>Console</th>
          </tr>
        </thead>
        <tbody>
          {data.replicas.map((r) => (
            <tr key={r.id} data-testid="replica-row" class={r.stale ? 'has-error' : ''}>
              <td>
                {r.id} {r.self && <span class="badge kept">this one</span>}{' '}
                {r.stale && (
                  <span class="badge err" data-testid="replica-stale">
                    stale
                  </span>
                )}
              </td>
              <td>{r.pipelines.join(', ')}</td>
              <td>{r.hostname}</td>
              <td>{r.version}</td>
              <td class="nowrap">{fmtDate(r.startedAt)}</td>
              <td class="nowrap">{fmtDate(r.lastSeen)}</td>
              <td>
                {r.self ? (
                  <span class="muted">here</span>
                ) : r.adminUrl ? (
                  <a href={`${r.adminUrl}/ui/`}>{r.adminUrl}/ui/</a>
                ) : (
                  <span class="muted">no address: set service.console.advertise on it</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {others.length === 0 && <p class="muted">No other replica announced itself in the last {data.ttlMs / 1000} s.</p>}
    </section>
  );
}

export function PipelinePage() {
  const { data, err } = usePoll<PipelineView>('/v1/pipeline', 5000);
  if (!data)
    return <div class="page">{err !== null ? <ErrorBox err={err} /> : <p class="muted">Loading pipeline…</p>}</div>;
  const lag = (v: number | null) => (v === null ? '—' : `${v.toFixed(2)}s`);
  // An ingest tier has no sampler: its buffer, decision lag and decision charts would only show zeros.
  const sampling = data.pipelines.some((p) => p.stages.some((st) => st.some((n) => n.type === 'tail_sampling')));
  return (
    <div class="page" data-testid="pipeline-page">
      <h2>Pipeline {data.replica && <span class="muted">replica {data.replica}</span>}</h2>
      {err !== null && <ErrorBox err={err} />}
      {data.pipelines.map((p) => (
        <section key={p.name}>
          <h3>
            pipeline {p.name} <span class="muted">({p.signal})</span>
          </h3>
          <div class="graph">
            {p.stages.map((stage, i) => (
              <Fragment key={i}>
                {i > 0 && <Edge from={p.stages[i - 1]} />}
                <div class="stage">
                  {stage.map((n) => (
                    <Node key={n.id} n={n} />
                  ))}
                </div>
              </Fragment>
            ))}
          </div>
        </section>
      ))}
      {sampling && (
        <div class="cards">
          <div class="card">
            <div class="muted small">buffered traces</div>
            <div class="big" data-testid="buffered-traces">
              {data.buffered.traces}
            </div>
            <div class="small">
              {data.buffered.spans} spans · {fmtBytes(data.buffered.bytes)}
            </div>
          </div>
          <div class="card">
            <div class="muted small">exporting</div>
            <div class="big">{fmtBytes(data.buffered.exportingBytes)}</div>
          </div>
          <div class="card">
            <div class="muted small">decision lag p50 / p99 (1 min)</div>
            <div class="big">
              {lag(data.decisionLagSeconds.p50)} / {lag(data.decisionLagSeconds.p99)}
            </div>
          </div>
        </div>
      )}
      <ReplicaList />
      <h3>Dependencies</h3>
      <table class="grid" data-testid="dependencies">
        <thead>
          <tr>
            <th>Dependency</th>
            <th>State</th>
            <th>Detail</th>
          </tr>
        </thead>
        <tbody>
          {data.dependencies.map((d) => (
            <tr key={d.name}>
              <td>{d.name}</td>
              <td class={d.ready ? 'ok' : 'bad'}>{d.ready ? 'ready' : d.degraded ? 'DEGRADED' : 'NOT READY'}</td>
              <td class="small">{d.detail}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data.kafkaLag.length > 0 && (
        <>
          <h3>Kafka consumer lag</h3>
          <table class="grid">
            <thead>
              <tr>
                <th>Topic</th>
                <th>Partition</th>
                <th>Lag (messages)</th>
              </tr>
            </thead>
            <tbody>
              {data.kafkaLag.map((k) => (
                <tr key={`${k.topic}/${k.partition}`}>
                  <td>{k.topic}</td>
                  <td>{k.partition}</td>
                  <td>{k.lag}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <h3>Last 15 minutes</h3>
      <div class="charts">
        <div>
          <h4>Spans/s in and out</h4>
          <Chart
            lines={[
              { label: 'accepted', color: '#4e79a7', points: data.series.accepted ?? [] },
              { label: 'exported', color: '#59a14f', points: data.series.exported ?? [] },
              { label: 'refused', color: '#e15759', points: data.series.refused ?? [] },
              { label: 'failed', color: '#b07aa1', points: data.series.failed ?? [] },
            ]}
          />
        </div>
        {sampling && (
          <div>
            <h4>Traces/s decided</h4>
            <Chart
              lines={[
                { label: 'kept', color: '#59a14f', points: data.series.kept ?? [] },
                { label: 'dropped', color: '#bab0ac', points: data.series.dropped ?? [] },
              ]}
            />
          </div>
        )}
        {sampling && (
          <div>
            <h4>Traces buffered</h4>
            <Chart
              unit=""
              lines={[{ label: 'buffered', color: '#f28e2b', points: data.series.bufferedTraces ?? [] }]}
            />
          </div>
        )}
      </div>
    </div>
  );
}
