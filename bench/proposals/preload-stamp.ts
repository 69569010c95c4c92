// Preload for an A/B run of the appendSpanAttributes proposal inside the real collector, without editing
// the codec: replaces the compiled dist/pipeline/otlp/stamp.js export before the pipeline is built (the
// tail sampler binds the function when it is constructed).
//   npx tsx bench/run.ts --ab bench/proposals/preload-stamp.ts --only sampling
import path from 'node:path';
import { appendSpanAttributesRuns } from './stamp-runs';

// The repository root, found from wherever this file runs (bench/run.ts bundles it into .scratch/).
const repo = path.dirname(require.resolve('tusk-collector/package.json'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const stamp = require(path.join(repo, 'dist', 'pipeline', 'otlp', 'stamp.js')) as { appendSpanAttributes: unknown };
stamp.appendSpanAttributes = appendSpanAttributesRuns;
