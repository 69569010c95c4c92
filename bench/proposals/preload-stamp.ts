// Preload for an A/B run of the appendSpanAttributes proposal inside the real collector, without editing
// the codec: replaces the compiled dist/pipeline/otlp/stamp.js export before the pipeline is built (the
// tail sampler binds the function when it is constructed).
//   npx tsx bench/run.ts --ab bench/proposals/preload-stamp.ts --only sampling
import path from 'node:path';
import { appendSpanAttributesRuns } from './stamp-runs';

// The dist/ the collector runs from: bench/run.ts's session snapshot (BENCH_DIST), else the repository's.
const dist = process.env.BENCH_DIST ?? path.join(path.dirname(require.resolve('tusk-collector/package.json')), 'dist');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const stamp = require(path.join(dist, 'pipeline', 'otlp', 'stamp.js')) as { appendSpanAttributes: unknown };
stamp.appendSpanAttributes = appendSpanAttributesRuns;
