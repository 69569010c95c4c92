// Traces page: search kept traces through Jaeger (service, operation, tags, durations, errors only, time
// range, limit), list them with duration bars and error marks, and open a trace id directly.

import { useEffect, useState } from 'preact/hooks';
import { getJson, type TraceSummary } from '../api';
import { ErrorBox } from '../widgets';
import { fmtDate, fmtUs, serviceColor } from '../format';

/** The search form's fields, kept in the URL hash so a search can be shared. */
interface Form {
  service: string;
  operation: string;
  tags: string;
  minDuration: string;
  maxDuration: string;
  errors: boolean;
  lookbackMinutes: string;
  limit: string;
}

const EMPTY: Form = {
  service: '',
  operation: '',
  tags: '',
  minDuration: '',
  maxDuration: '',
  errors: false,
  lookbackMinutes: '60',
  limit: '20',
};

function formFromQuery(q: URLSearchParams): Form {
  return {
    service: q.get('service') ?? '',
    operation: q.get('operation') ?? '',
    tags: q.get('tags') ?? '',
    minDuration: q.get('minDuration') ?? '',
    maxDuration: q.get('maxDuration') ?? '',
    errors: q.get('errors') === 'true',
    lookbackMinutes: q.get('lookbackMinutes') ?? EMPTY.lookbackMinutes,
    limit: q.get('limit') ?? EMPTY.limit,
  };
}

function queryOf(f: Form): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) {
    if (typeof v === 'boolean') {
      if (v) q.set(k, 'true');
    } else if (v !== '') q.set(k, v);
  }
  return q.toString();
}

export function TracesPage({ query }: { query: URLSearchParams }) {
  const [form, setForm] = useState<Form>(() => formFromQuery(query));
  const [services, setServices] = useState<string[]>([]);
  const [operations, setOperations] = useState<string[]>([]);
  const [results, setResults] = useState<TraceSummary[] | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [openId, setOpenId] = useState('');

  useEffect(() => {
    getJson<{ services: string[] }>('/v1/services').then((r) => {
      setServices(r.services);
      if (form.service === '' && r.services.length > 0)
        setForm((f) => ({ ...f, service: r.services.find((s) => s !== 'jaeger-all-in-one') ?? r.services[0] }));
    }, setErr);
  }, []);
  useEffect(() => {
    if (form.service === '') return;
    getJson<{ operations: string[] }>(`/v1/services/${encodeURIComponent(form.service)}/operations`).then(
      (r) => setOperations(r.operations),
      () => setOperations([]),
    );
  }, [form.service]);
  useEffect(() => {
    if (query.get('service')) void search(formFromQuery(query));
  }, [query.toString()]);

  async function search(f: Form) {
    setBusy(true);
    setErr(null);
    try {
      const r = await getJson<{ traces: TraceSummary[] }>(`/v1/traces?${queryOf(f)}`);
      setResults(r.traces);
    } catch (e) {
      setErr(e);
      setResults(null);
    } finally {
      setBusy(false);
    }
  }

  const submit = (e: Event) => {
    e.preventDefault();
    const q = queryOf(form);
    if (location.hash === `#/traces?${q}`) void search(form);
    else location.hash = `#/traces?${q}`;
  };
  const set = (k: keyof Form) => (e: Event) => {
    const t = e.target as HTMLInputElement;
    setForm({ ...form, [k]: t.type === 'checkbox' ? t.checked : t.value });
  };
  const maxUs = Math.max(1, ...(results ?? []).map((r) => r.durationUs));

  return (
    <div class="page" data-testid="traces-page">
      <form class="search" onSubmit={submit}>
        <label>
          Service
          <select name="service" value={form.service} onChange={set('service')}>
            {form.service !== '' && !services.includes(form.service) && (
              <option value={form.service}>{form.service}</option>
            )}
            {services.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Operation
          <select name="operation" value={form.operation} onChange={set('operation')}>
            <option value="">all</option>
            {operations.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </label>
        <label>
          Tags <input name="tags" placeholder="http.status_code=500 k=v" value={form.tags} onInput={set('tags')} />
        </label>
        <label>
          Min duration{' '}
          <input
            name="minDuration"
            placeholder="250ms"
            size={7}
            value={form.minDuration}
            onInput={set('minDuration')}
          />
        </label>
        <label>
          Max duration{' '}
          <input name="maxDuration" placeholder="5s" size={7} value={form.maxDuration} onInput={set('maxDuration')} />
        </label>
        <label>
          Last
          <select name="lookbackMinutes" value={form.lookbackMinutes} onChange={set('lookbackMinutes')}>
            {[
              ['15', '15 min'],
              ['60', '1 hour'],
              ['360', '6 hours'],
              ['1440', '24 hours'],
              ['10080', '7 days'],
            ].map(([v, t]) => (
              <option key={v} value={v}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          Limit{' '}
          <input name="limit" type="number" min={1} max={1500} size={4} value={form.limit} onInput={set('limit')} />
        </label>
        <label class="inline">
          <input name="errors" type="checkbox" checked={form.errors} onChange={set('errors')} /> errors only
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'Searching…' : 'Find traces'}
        </button>
      </form>
      <form
        class="open-id"
        onSubmit={(e) => {
          e.preventDefault();
          location.hash = `#/trace/${openId.trim()}`;
        }}
      >
        <label>
          Trace id{' '}
          <input
            name="traceId"
            placeholder="32 hex characters"
            size={36}
            value={openId}
            onInput={(e) => setOpenId((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit">Open</button>
      </form>
      {err !== null && <ErrorBox err={err} />}
      {results !== null && (
        <div>
          <p class="muted" data-testid="result-count">
            {results.length} trace{results.length === 1 ? '' : 's'}
          </p>
          <table class="results">
            <thead>
              <tr>
                <th>Trace</th>
                <th>Start</th>
                <th>Spans</th>
                <th>Services</th>
                <th class="wide">Duration</th>
              </tr>
            </thead>
            <tbody>
              {results.map((r) => (
                <tr key={r.traceId} class={r.errorCount > 0 ? 'has-error' : ''} data-testid="trace-row">
                  <td>
                    <a href={`#/trace/${r.traceId}`}>
                      {r.rootService}: {r.rootOperation}
                    </a>
                    {r.errorCount > 0 && (
                      <span class="badge err" title={`${r.errorCount} spans with errors`}>
                        {r.errorCount} error{r.errorCount > 1 ? 's' : ''}
                      </span>
                    )}
                    <div class="mono muted small">{r.traceId}</div>
                  </td>
                  <td class="nowrap">{fmtDate(r.startUs / 1000)}</td>
                  <td>{r.spanCount}</td>
                  <td>
                    {r.services.map((s) => (
                      <span key={s} class="svc" style={{ borderColor: serviceColor(s) }}>
                        {s}
                      </span>
                    ))}
                  </td>
                  <td class="wide">
                    <div class="dbar">
                      <div
                        style={{ width: `${(100 * r.durationUs) / maxUs}%` }}
                        class={r.errorCount > 0 ? 'err' : ''}
                      />
                    </div>
                    <span class="nowrap">{fmtUs(r.durationUs)}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
