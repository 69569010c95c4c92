// Unit tests of the benchmark's cost model (bench/lib/costmodel.ts): the points it runs, the medians per
// point, the least-squares line, the sizing text derived from it and the rendered table.

import { expect } from 'chai';
import type { RunResult } from '../../../bench/lib/cases';
import {
  SCALE_PARTITIONS,
  fitLine,
  fitSizing,
  scaleCases,
  scalePoints,
  scaleTable,
  sizingText,
  topology,
} from '../../../bench/lib/costmodel';

/** run is an ok end-to-end run of the cost model; cores are derived from CPU-s per M spans x accepted rate. */
function run(o: Partial<RunResult> & Pick<RunResult, 'caseId' | 'system'>): RunResult {
  return {
    scenario: 'e2e',
    profile: 'small',
    transport: 'http',
    round: 0,
    ok: true,
    spans: 0,
    traces: 0,
    windowS: 10,
    spansPerS: 10_000,
    cpuS: 0,
    cpuSPerMSpans: 50,
    spansPerCpuS: 0,
    peakRssMB: 100,
    loadAvg1: 0,
    machineBusyCores: 0,
    sutCores: 0,
    notes: [],
    offeredSpansPerS: 10_000,
    ...o,
  };
}

/** A point per rate whose cores follow 0.1 + 0.05 per 1k spans/s, split 40/50/10 ingest/sample/redis. */
function linearRuns(system: 'ours' | 'peer', samplers: number | undefined, rates: number[]): RunResult[] {
  return rates.map((rate) => {
    const cores = 0.1 + (0.05 * rate) / 1000;
    const perM = (cores / rate) * 1e6;
    return run({
      caseId: `scale/small/${rate}${samplers === undefined ? '' : `/x${samplers}`}`,
      system,
      samplers,
      offeredSpansPerS: rate,
      spansPerS: rate,
      cpuSPerMSpans: perM,
      cpuSPerMSpansByRole: { ingest: 0.4 * perM, sample: 0.5 * perM, redis: 0.1 * perM },
      peakRssMB: 200 + rate / 1000,
      redisPeakRssMB: 10,
    });
  });
}

describe('bench cost model', () => {
  describe('scaleCases', () => {
    it('runs every rate once per sampler count on a topic of 6 partitions, prod spans over gRPC', () => {
      const cases = scaleCases({ rates: [2000, 40_000], profile: 'prod', samplers: [1, 3], seconds: 7, rounds: 2 });
      expect(cases.map((c) => c.id)).to.deep.equal([
        'scale/prod/2000/x1',
        'scale/prod/2000/x3',
        'scale/prod/40000/x1',
        'scale/prod/40000/x3',
      ]);
      for (const c of cases) {
        expect(c).to.include({ scenario: 'e2e', transport: 'grpc', seconds: 7, rounds: 2 });
        expect(c.partitions).to.equal(SCALE_PARTITIONS);
      }
      expect(cases.map((c) => c.samplers)).to.deep.equal([1, 3, 1, 3]);
      expect(cases[2].concurrency).to.equal(16);
    });

    it('without sampler counts keeps one process per tier and the default partitions, small spans over HTTP', () => {
      const [c] = scaleCases({ rates: [5000], profile: 'small', seconds: 10, rounds: 1 });
      expect(c).to.include({ id: 'scale/small/5000', transport: 'http', rate: 5000, concurrency: 8 });
      expect(c.samplers).to.equal(undefined);
      expect(c.partitions).to.equal(undefined);
    });
  });

  describe('fitLine', () => {
    it('recovers an exact line', () => {
      const l = fitLine([1, 2, 4].map((x) => ({ x, y: 3 + 2 * x })))!;
      expect(l.fixed).to.be.closeTo(3, 1e-9);
      expect(l.marginal).to.be.closeTo(2, 1e-9);
    });

    it('is the least-squares line of scattered points', () => {
      // (0,1) (1,3) (2,2): mean x 1, mean y 2, slope 0.5, intercept 1.5
      const l = fitLine([
        { x: 0, y: 1 },
        { x: 1, y: 3 },
        { x: 2, y: 2 },
      ])!;
      expect(l.marginal).to.be.closeTo(0.5, 1e-9);
      expect(l.fixed).to.be.closeTo(1.5, 1e-9);
    });

    it('has no line through one point or through points of one x', () => {
      expect(fitLine([{ x: 1, y: 1 }])).to.equal(undefined);
      expect(
        fitLine([
          { x: 2, y: 1 },
          { x: 2, y: 5 },
        ]),
      ).to.equal(undefined);
    });
  });

  describe('scalePoints', () => {
    it('takes medians over rounds, leaves failed runs out and derives cores by role from the accepted rate', () => {
      const id = 'scale/small/10000/x2';
      const points = scalePoints([
        run({ caseId: id, system: 'ours', samplers: 2, cpuSPerMSpans: 40, cpuSPerMSpansByRole: { ingest: 10 } }),
        run({ caseId: id, system: 'ours', samplers: 2, cpuSPerMSpans: 60, cpuSPerMSpansByRole: { ingest: 30 } }),
        run({ caseId: id, system: 'ours', samplers: 2, cpuSPerMSpans: 50, cpuSPerMSpansByRole: { ingest: 20 } }),
        run({ caseId: id, system: 'ours', samplers: 2, ok: false, cpuSPerMSpans: 900, round: 3 }),
        run({ caseId: id, system: 'peer', samplers: 2, spansPerS: 8000, groupPartitions: [3, 3], redisPeakRssMB: 5 }),
      ]);
      expect(points).to.have.length(2);
      const [ours, peer] = points;
      expect(ours).to.include({ system: 'ours', samplers: 2, offered: 10_000, runsOk: 3, runs: 4, cpuSPerMSpans: 50 });
      expect(ours.cores).to.be.closeTo(0.5, 1e-9);
      expect(ours.coresByRole.ingest).to.be.closeTo(0.2, 1e-9);
      expect(peer.cores).to.be.closeTo(0.4, 1e-9);
      expect(peer.rssMB).to.equal(105);
      expect(peer.groupPartitions).to.deep.equal([3, 3]);
    });
  });

  describe('fitSizing and sizingText', () => {
    it('fits cores, ingest, sampling (samplers + Redis) and RSS per system and sampler count', () => {
      const points = scalePoints([
        ...linearRuns('ours', 2, [2000, 5000, 10_000]),
        ...linearRuns('ours', 3, [2000, 10_000]),
      ]);
      const sizing = fitSizing(points);
      expect(sizing.map((s) => [s.system, s.samplers, s.points])).to.deep.equal([
        ['ours', 2, 3],
        ['ours', 3, 2],
      ]);
      const s = sizing[0];
      expect(s.cores!.fixed).to.be.closeTo(0.1, 1e-9);
      expect(s.cores!.marginal * 1000).to.be.closeTo(0.05, 1e-9);
      expect(s.ingest!.marginal * 1000).to.be.closeTo(0.4 * 0.05, 1e-9);
      expect(s.sampling!.marginal * 1000).to.be.closeTo(0.6 * 0.05, 1e-9);
      expect(s.rssMB!.fixed).to.be.closeTo(210, 1e-9);
      expect(s.rssMB!.marginal * 1000).to.be.closeTo(1, 1e-9);
      expect(sizingText(s, 'prod')).to.equal(
        'ours, ingest + 2 samplers (3 rates): cores = 0.10 + 0.050 per 1k spans/s; RSS = 210 MB + 1.0 MB per 1k ' +
          'spans/s\n     per 10k spans/s of prod spans: 0.20 cores ingest, 0.30 cores sampling (samplers + Redis), ' +
          '10 MB; on top of a fixed 0.10 cores and 210 MB for this topology',
      );
    });

    it('gives one figure for both tiers when the peer runs in one process, and no line from one rate', () => {
      const oneProcess = linearRuns('peer', undefined, [2000, 4000]).map((r) => ({
        ...r,
        cpuSPerMSpansByRole: { all: r.cpuSPerMSpans },
      }));
      const [peer] = fitSizing(scalePoints(oneProcess));
      expect(peer.ingest).to.equal(undefined);
      expect(sizingText(peer, 'small')).to.contain('per 10k spans/s of small spans: 0.50 cores (both tiers in one');
      const [single] = fitSizing(scalePoints(linearRuns('ours', 1, [5000])));
      expect(sizingText(single, 'small')).to.equal('ours, ingest + 1 sampler (1 rate): fewer than two rates, no line');
    });
  });

  describe('topology', () => {
    it('names the split topology for both systems and the peer in one process without samplers', () => {
      expect(topology('peer', 3)).to.equal('ingest + 3 samplers');
      expect(topology('ours', undefined)).to.equal('ingest + 1 sampler');
      expect(topology('peer', undefined)).to.equal('one process (both tiers)');
    });
  });

  describe('scaleTable', () => {
    it('renders a row per point and system, ordered by sampler count and rate, then notes, failures and lines', () => {
      const cases = scaleCases({ rates: [2000, 10_000], profile: 'small', samplers: [1, 2], seconds: 10, rounds: 1 });
      const results = [
        ...linearRuns('ours', 2, [2000, 10_000]),
        ...linearRuns('peer', 2, [2000, 10_000]).map((r) => ({
          ...r,
          redisPeakRssMB: undefined,
          groupPartitions: [3, 3],
          cpuSPerMSpansByRole: { ingest: r.cpuSPerMSpans / 2, sample: r.cpuSPerMSpans / 2 },
        })),
        ...linearRuns('ours', 1, [2000]).map((r) => ({ ...r, notes: ['load generator fell behind 3 times'] })),
        run({ caseId: 'scale/small/2000/x1', system: 'peer', samplers: 1, offeredSpansPerS: 2000, ok: false }),
      ];
      results[results.length - 1].error = 'peer ingest: not ready';
      const text = scaleTable(cases, results);
      const rows = text.split('\n').filter((l) => /^\| [\d,]+ \|/.test(l));
      const row = (...cells: string[]) => `| ${cells.join(' | ')} |`;
      const na = ['n/a', 'n/a'];
      expect(rows).to.deep.equal([
        row(
          '2,000',
          'ours',
          'ingest + 1 sampler',
          '2,000',
          '0.20',
          '0.08 / 0.10 / 0.02',
          '100.0',
          '212',
          ...na,
          '-',
          '1/1',
        ),
        row('2,000', 'peer', 'ingest + 1 sampler', 'n/a', 'n/a', '- / - / -', 'n/a', 'n/a', ...na, '-', '0/1'),
        row(
          '2,000',
          'ours',
          'ingest + 2 samplers',
          '2,000',
          '0.20',
          '0.08 / 0.10 / 0.02',
          '100.0',
          '212',
          ...na,
          '-',
          '1/1',
        ),
        row(
          '2,000',
          'peer',
          'ingest + 2 samplers',
          '2,000',
          '0.20',
          '0.10 / 0.10 / -',
          '100.0',
          '202',
          ...na,
          '3/3',
          '1/1',
        ),
        row(
          '10,000',
          'ours',
          'ingest + 2 samplers',
          '10,000',
          '0.60',
          '0.24 / 0.30 / 0.06',
          '60.0',
          '220',
          ...na,
          '-',
          '1/1',
        ),
        row(
          '10,000',
          'peer',
          'ingest + 2 samplers',
          '10,000',
          '0.60',
          '0.30 / 0.30 / -',
          '60.0',
          '210',
          ...na,
          '3/3',
          '1/1',
        ),
      ]);
      expect(text).to.contain('small spans over OTLP/HTTP, 10 s of load per point, topic of 6 partitions');
      expect(text).to.contain('peer = 1 ingest collector (otlp -> kafka) + N collectors');
      expect(text).to.contain(
        'note 2,000 spans/s, ingest + 1 sampler, ours round 1: load generator fell behind 3 times',
      );
      expect(text).to.contain('FAILED 2,000 spans/s, ingest + 1 sampler, peer round 1: peer ingest: not ready');
      expect(text).to.contain('ours, ingest + 2 samplers (2 rates): cores = 0.10 + 0.050 per 1k spans/s');
      expect(text).to.contain('per 10k spans/s of small spans: 0.25 cores ingest, 0.25 cores sampling, 10 MB');
    });

    it('says when the peer holds both tiers in one process', () => {
      const cases = scaleCases({ rates: [5000], profile: 'small', seconds: 10, rounds: 1 });
      const text = scaleTable(cases, [
        run({
          caseId: 'scale/small/5000',
          system: 'peer',
          cpuSPerMSpansByRole: { all: 50 },
          offeredSpansPerS: 5000,
          spansPerS: 5000,
        }),
      ]);
      expect(text).to.contain('peer = one collector holding both pipelines');
      expect(text).to.contain('| 5,000 | peer | one process (both tiers) | 5,000 | 0.25 | 0.25 (one process) |');
      expect(text).to.contain('topic of 4 partitions');
    });
  });
});
