// Unit tests of the benchmark's measuring helpers (bench/lib/measure.ts) for several processes per tier:
// scrapes of sampler processes add up, the figures of both systems count every sampler, and the CPU of a
// window splits by role.

import { expect } from 'chai';
import { combine, cpuByRoleBetween, figuresOf, type Scrape } from '../../../bench/lib/measure';
import { Metrics } from '../../../bench/lib/prom';

const scrape = (text: string) => Metrics.parse(text);

describe('bench measure (several processes per tier)', () => {
  const lag = (le1: number, inf: number) =>
    `tusk_sampler_decision_lag_seconds_bucket{le="1"} ${le1}\n` +
    `tusk_sampler_decision_lag_seconds_bucket{le="+Inf"} ${inf}\n`;
  const ours: Scrape = [
    { role: 'ingest', m: scrape('tusk_receiver_spans_total{outcome="accepted"} 900\ntusk_sampler_decisions_total 99') },
    {
      role: 'sample',
      m: scrape(`tusk_kafka_consumed_messages_total 10\ntusk_sampler_decisions_total 8\n${lag(3, 4)}`),
    },
    {
      role: 'sample',
      m: scrape(`tusk_kafka_consumed_messages_total 5\ntusk_sampler_decisions_total 4\n${lag(1, 6)}`),
    },
  ];

  it('combine adds up the sums and histogram buckets of the processes of the given roles', () => {
    const m = combine(ours, ['sample'])!;
    expect(m.sum('tusk_kafka_consumed_messages_total')).to.equal(15);
    expect(m.buckets('tusk_sampler_decision_lag_seconds')).to.deep.equal([
      { le: 1, count: 4 },
      { le: Infinity, count: 10 },
    ]);
    expect(combine(ours)!.sum('tusk_sampler_decisions_total')).to.equal(111);
    expect(combine(ours, ['all'])).to.equal(undefined);
  });

  it("ours' figures count every sampler process and the ingest process once", () => {
    const f = figuresOf('ours', ours, 10);
    expect(f).to.include({ consumedTraces: 15, decidedTraces: 12, receivedSpans: 900 });
  });

  it("the peer's figures add up its ingest collector and sampling collectors (heap: the samplers only)", () => {
    const peer: Scrape = [
      {
        role: 'ingest',
        m: scrape(
          'otelcol_receiver_accepted_spans_total{receiver="otlp"} 700\notelcol_process_runtime_heap_alloc_bytes 1000',
        ),
      },
      {
        role: 'sample',
        m: scrape(
          'otelcol_processor_tail_sampling_sampling_traces_on_memory 3\n' +
            'otelcol_processor_tail_sampling_new_trace_id_received_total 20\n' +
            'otelcol_receiver_accepted_spans_total{receiver="kafka"} 50\n' +
            'otelcol_process_runtime_heap_alloc_bytes 200',
        ),
      },
      {
        role: 'sample',
        m: scrape(
          'otelcol_processor_tail_sampling_sampling_traces_on_memory 1\n' +
            'otelcol_processor_tail_sampling_new_trace_id_received_total 30\n' +
            'otelcol_process_runtime_heap_alloc_bytes 300',
        ),
      },
    ];
    const f = figuresOf('peer', peer, 10);
    expect(f).to.include({ consumedTraces: 50, bufferedTraces: 4, bufferedSpans: 40, receivedSpans: 700 });
    expect(f.heapBytes).to.equal(500);
  });

  it('cpuByRoleBetween sums the CPU used between two samples by role', () => {
    const a = {
      cpuByPid: new Map([
        [1, 1],
        [2, 10],
        [3, 20],
        [4, 5],
      ]),
    };
    const b = {
      cpuByPid: new Map([
        [1, 2],
        [2, 13],
        [3, 24],
        [4, 5.5],
        [9, 100],
      ]),
    };
    const roles = new Map([
      [1, 'ingest'],
      [2, 'sample'],
      [3, 'sample'],
      [4, 'redis'],
    ]);
    expect(cpuByRoleBetween(a, b, roles)).to.deep.equal({ ingest: 1, sample: 7, redis: 0.5 });
  });
});
