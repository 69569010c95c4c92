// The folder rules of docs/architecture.md, checked on the code: a component imports the SDK and its own
// folder only; the SDK imports no component, no runtime and no config; the config loader knows no
// runtime and no concrete component; only the runtime assembles the built-ins.

import { expect } from 'chai';
import path from 'node:path';
import { importEdges, type ImportEdge } from '../helpers/import-graph';

const REPO = path.resolve(__dirname, '..', '..');
const COMPONENT_KINDS = ['receivers', 'processors', 'exporters'];

/** The layer a repo-relative file belongs to: `sdk`, `runtime`, `config`, `component:<kind>/<name>`, ... */
function layerOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] === 'pipeline' && (parts[1] === 'sdk' || parts[1] === 'runtime')) return parts[1];
  if (parts[0] === 'pipeline') return 'pipeline-entry';
  if (COMPONENT_KINDS.includes(parts[0])) return `component:${parts[0]}/${parts[1]}`;
  return parts[0];
}

/** What each layer may import besides itself (a component: itself, i.e. its own folder). */
const ALLOWED: Record<string, readonly string[]> = {
  sdk: [],
  config: ['sdk'],
  instrument: ['sdk', 'config'],
  runtime: ['*'],
  'pipeline-entry': ['*'],
};

/** violations lists the imports that break the folder rules. */
function violations(edges: readonly ImportEdge[]): string[] {
  const out: string[] = [];
  for (const edge of edges) {
    const from = layerOf(edge.from);
    const to = layerOf(edge.to);
    if (from === to) continue;
    const allowed = from.startsWith('component:') ? ['sdk'] : (ALLOWED[from] ?? []);
    if (allowed.includes('*') || allowed.includes(to)) continue;
    out.push(`${edge.from}:${edge.line} (${from}) imports ${edge.to} (${to})`);
  }
  return out;
}

describe('layering: what may import what', () => {
  const edges = importEdges(REPO);

  it('reads the imports of the product folders', () => {
    expect(edges.length).to.be.greaterThan(200);
    expect(edges.some((e) => e.from.startsWith('receivers/') && e.to.startsWith('pipeline/sdk/'))).to.equal(true);
  });

  it('components import the SDK and their own folder only; the SDK and config import no runtime or component', () => {
    expect(violations(edges)).to.deep.equal([]);
  });

  it('only the runtime registry knows the concrete components', () => {
    const importers = new Set(
      edges
        .filter((e) => layerOf(e.to).startsWith('component:') && !layerOf(e.from).startsWith('component:'))
        .map((e) => e.from),
    );
    expect([...importers]).to.deep.equal(['pipeline/runtime/registry.ts']);
  });

  it('flags each kind of break', () => {
    const edge = (from: string, to: string): ImportEdge => ({ from, to, line: 1, typeOnly: false });
    const found = violations([
      edge('receivers/otlp/receiver.ts', 'pipeline/runtime/service.ts'),
      edge('exporters/jaeger/exporter.ts', 'exporters/otlp/config.ts'),
      edge('pipeline/sdk/component.ts', 'processors/tail-sampling/config.ts'),
      edge('config/service/load.ts', 'pipeline/runtime/registry.ts'),
      edge('receivers/kafka/receiver.ts', 'receivers/kafka/config.ts'),
      edge('exporters/kafka/exporter.ts', 'pipeline/sdk/kafka/producer.ts'),
    ]);
    expect(found).to.have.length(4);
    expect(found[0]).to.contain(
      'receivers/otlp/receiver.ts:1 (component:receivers/otlp) imports pipeline/runtime/service.ts (runtime)',
    );
  });
});
