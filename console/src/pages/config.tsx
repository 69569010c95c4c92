// Config page: the effective configuration (defaults filled in, secrets redacted), its file and the last reload.

import { useEffect, useState } from 'preact/hooks';
import { getJson } from '../api';
import { ErrorBox } from '../widgets';
import { fmtDate } from '../format';

interface Effective {
  file: string;
  service: unknown;
  components: Array<{ id: string; type: string; config: unknown }>;
  pipelines: Array<{ name: string; signal: string; receivers: string[]; processors: string[]; exporters: string[] }>;
  document: unknown;
  lastReload: { at: number; ok: boolean; trigger: string; problems: string[] } | null;
}

export function ConfigPage() {
  const [cfg, setCfg] = useState<Effective | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const [raw, setRaw] = useState(false);
  useEffect(() => {
    getJson<Effective>('/v1/config/effective').then(setCfg, setErr);
  }, []);
  if (err) return <ErrorBox err={err} />;
  if (!cfg) return <p class="muted">Loading configuration…</p>;
  return (
    <div class="page" data-testid="config-page">
      <h2>Configuration</h2>
      <p>
        Loaded from <code>{cfg.file}</code>. Last reload:{' '}
        {cfg.lastReload === null ? (
          <span class="muted">none since start</span>
        ) : (
          <span class={cfg.lastReload.ok ? 'ok' : 'bad'}>
            {cfg.lastReload.ok ? 'applied' : 'rejected'} at {fmtDate(cfg.lastReload.at)} ({cfg.lastReload.trigger})
            {cfg.lastReload.problems.length > 0 && <pre>{cfg.lastReload.problems.join('\n')}</pre>}
          </span>
        )}
      </p>
      <p class="muted">Secrets (passwords, tokens, SASL settings) are shown as ***.</p>
      <label class="inline">
        <input type="checkbox" checked={raw} onChange={(e) => setRaw((e.target as HTMLInputElement).checked)} /> the
        file as written
      </label>
      {raw ? (
        <pre class="json">{JSON.stringify(cfg.document, null, 2)}</pre>
      ) : (
        <div>
          <h3>[service]</h3>
          <pre class="json">{JSON.stringify(cfg.service, null, 2)}</pre>
          {cfg.components.map((c) => (
            <div key={c.id}>
              <h3>
                [{c.id}] <span class="muted">type {c.type}</span>
              </h3>
              <pre class="json">{JSON.stringify(c.config, null, 2)}</pre>
            </div>
          ))}
          <h3>pipelines</h3>
          <pre class="json">{JSON.stringify(cfg.pipelines, null, 2)}</pre>
        </div>
      )}
    </div>
  );
}
