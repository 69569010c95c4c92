// Unit tests of the benchmark report's target standing (bench/lib/report.ts): each target's ratio is the median of
// ours over the median of the peer in spans per CPU-second, met against its own goal, with the spread of the
// per-round ratios when a case ran several rounds.

import { expect } from 'chai';
import type { RunResult } from '../../../bench/lib/cases';
import { targets, type Session } from '../../../bench/lib/report';

function run(caseId: string, system: 'ours' | 'peer', round: number, spansPerCpuS: number): RunResult {
  const e2e = caseId.startsWith('e2e');
  return {
    caseId,
    scenario: e2e ? 'e2e' : 'ingest',
    profile: 'small',
    transport: 'http',
    system,
    round,
    ok: true,
    spans: 1000,
    traces: 100,
    windowS: 1,
    spansPerS: 1000,
    cpuS: 1000 / spansPerCpuS,
    cpuSPerMSpans: 1e6 / spansPerCpuS,
    spansPerCpuS,
    peakRssMB: 100,
    loadAvg1: 1,
    machineBusyCores: 1,
    sutCores: 1,
    notes: [],
    ...(caseId === 'e2e/http/small' ? { offeredSpansPerS: 10_000 } : {}),
  } as RunResult;
}

function session(results: RunResult[]): Session {
  return { results } as unknown as Session;
}

describe('bench report targets', () => {
  it('compares each case with its own goal and gives the spread of the per-round ratios', () => {
    const rows = targets(
      session([
        run('e2e/http/small', 'ours', 0, 1600),
        run('e2e/http/small', 'peer', 0, 1000),
        run('e2e/http/small', 'ours', 1, 1400),
        run('e2e/http/small', 'peer', 1, 1000),
        run('e2e/http/small', 'ours', 2, 1500),
        run('e2e/http/small', 'peer', 2, 1000),
        run('e2e-max/http/small', 'ours', 0, 1900),
        run('e2e-max/http/small', 'peer', 0, 1000),
        run('ingest/grpc/prod', 'ours', 0, 1400),
        run('ingest/grpc/prod', 'peer', 0, 1000),
      ]),
    );
    const byGoal = (text: string) => rows.find((r) => r.target.includes(text))!;
    expect(byGoal('one process per tier')).to.deep.include({ value: '1.50x (rounds 1.40-1.60x)', met: 'yes' });
    expect(byGoal('saturation (e2e-max)')).to.deep.include({ value: '1.90x', met: 'NO' });
    expect(byGoal('saturation (e2e-max)').target).to.contain('>= 2.0x');
    expect(byGoal('prod spans')).to.deep.include({ value: '1.40x', met: 'yes' });
    expect(
      rows.some((r) => r.target.includes('both tiers in one process')),
      'no such case ran',
    ).to.equal(false);
  });
});
