// The import structure of the product code: no file imports itself through a chain of relative imports
// at runtime (`import type` vanishes at compile time and is ignored), the OTLP codec's folder has no loop
// even counting type imports, and code outside pipeline/sdk/otlp imports the codec only through its
// index.ts.

import { expect } from 'chai';
import path from 'node:path';
import { findCycles, importEdges, type ImportEdge } from '../../helpers/import-graph';

const REPO = path.resolve(__dirname, '..', '..', '..');
const OTLP = 'pipeline/sdk/otlp/';
const OTLP_ENTRY = `${OTLP}index.ts`;

/** cycleReport renders cycles one per line, each closed back to its first file. */
function cycleReport(cycles: readonly string[][]): string {
  return cycles.map((c) => [...c, c[0]].join(' -> ')).join('\n');
}

/** otlpBypasses lists the imports of a pipeline/sdk/otlp file other than index.ts from outside that folder. */
function otlpBypasses(edges: readonly ImportEdge[]): string[] {
  return edges
    .filter((e) => !e.from.startsWith(OTLP) && e.to.startsWith(OTLP) && e.to !== OTLP_ENTRY)
    .map((e) => `${e.from}:${e.line} imports ${e.to}`);
}

describe('import structure of the product code', () => {
  const edges = importEdges(REPO);

  it('finds each loop once, and none in an acyclic graph', () => {
    const edge = (from: string, to: string) => ({ from, to });
    expect(findCycles([edge('a', 'b'), edge('b', 'c'), edge('a', 'c')])).to.deep.equal([]);
    const graph = [edge('s', 'x'), edge('x', 'y'), edge('y', 'z'), edge('z', 'x'), edge('y', 'x'), edge('w', 'w')];
    expect(findCycles(graph)).to.have.deep.members([['x', 'y'], ['w']]);
  });

  it('flags an import of a codec file from outside the codec, not the index or imports inside it', () => {
    const edge = (from: string, to: string): ImportEdge => ({ from, to, line: 3, typeOnly: false });
    const found = otlpBypasses([
      edge('receivers/kafka/receiver.ts', 'pipeline/sdk/otlp/scanner.ts'),
      edge('receivers/otlp/handler.ts', OTLP_ENTRY),
      edge('pipeline/sdk/otlp/stamp.ts', 'pipeline/sdk/otlp/wire.ts'),
    ]);
    expect(found).to.deep.equal(['receivers/kafka/receiver.ts:3 imports pipeline/sdk/otlp/scanner.ts']);
  });

  it('has no import cycle at runtime', () => {
    expect(edges.length).to.be.greaterThan(300);
    const cycles = findCycles(edges.filter((e) => !e.typeOnly));
    expect(cycles, `import cycles:\n${cycleReport(cycles)}`).to.deep.equal([]);
  });

  it('has no import cycle inside pipeline/sdk/otlp, type imports included', () => {
    const inside = edges.filter((e) => e.from.startsWith(OTLP) && e.to.startsWith(OTLP));
    expect(inside.length).to.be.greaterThan(5);
    const cycles = findCycles(inside);
    expect(cycles, `import cycles:\n${cycleReport(cycles)}`).to.deep.equal([]);
  });

  it('imports pipeline/sdk/otlp only through its index.ts from outside that folder', () => {
    const bypasses = otlpBypasses(edges);
    expect(bypasses, `imports that bypass ${OTLP_ENTRY}:\n${bypasses.join('\n')}`).to.deep.equal([]);
  });
});
