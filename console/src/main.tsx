// The console's entry: a header with the pages and the collector's status, and a hash router
// (#/traces, #/trace/{id}, #/sampling, #/pipeline, #/config).

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Status } from './api';
import { usePoll } from './widgets';
import { TracesPage } from './pages/traces';
import { TracePage } from './pages/trace';
import { SamplingPage } from './pages/sampling';
import { PipelinePage } from './pages/pipeline';
import { ConfigPage } from './pages/config';
import 'uplot/dist/uPlot.min.css';
import './styles.css';

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/traces');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/traces');
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function App() {
  const hash = useHash();
  const { data: status, err } = usePoll<Status>('/v1/status', 10_000);
  const [path, query = ''] = hash.slice(1).split('?');
  const q = new URLSearchParams(query);
  const tab = path.startsWith('/trace') ? 'traces' : path.slice(1);
  let page;
  if (path.startsWith('/trace/')) page = <TracePage traceId={decodeURIComponent(path.slice('/trace/'.length))} />;
  else if (path === '/sampling') page = <SamplingPage />;
  else if (path === '/pipeline') page = <PipelinePage />;
  else if (path === '/config') page = <ConfigPage />;
  else page = <TracesPage query={q} />;
  return (
    <div>
      <header>
        <span class="logo">tusk-collector</span>
        <nav>
          {['traces', 'sampling', 'pipeline', 'config'].map((t) => (
            <a key={t} href={`#/${t}`} class={tab === t ? 'active' : ''}>
              {t[0].toUpperCase() + t.slice(1)}
            </a>
          ))}
        </nav>
        <span class="status small" data-testid="status">
          {status ? (
            <>
              <span class={status.ready ? 'dot up' : 'dot down'} /> {status.service} · {status.mode}
              {status.replica ? ` · replica ${status.replica}` : ''} · {status.file.split('/').pop()}
            </>
          ) : err ? (
            <span class="bad">admin server not answering</span>
          ) : (
            '…'
          )}
        </span>
      </header>
      <main>{page}</main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
