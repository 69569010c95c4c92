// Unit tests of the `kafka` receiver that need no broker: turning messages into chunks (key validation,
// deriving trace ids from the payload when the key is missing, poison detection), the config schema, and
// the lifecycle rules every component follows, and readiness without answered heartbeats.

import { expect } from 'chai';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { ReceiverNext } from '../../../pipeline/sdk/component';
import { isPermanent } from '../../../pipeline/sdk/errors';
import { KafkaErrorCode } from '../../../pipeline/sdk/kafka/errors';
import { factory } from '../../../receivers/kafka/factory';
import { kafkaReceiverConfigSchema } from '../../../receivers/kafka/config';
import { collectBatch, entryOf, traceIdOfKey } from '../../../receivers/kafka/receiver';
import { PartitionState } from '../../../receivers/kafka/partition';
import { PartitionClock, watermarkMessage } from '../../../pipeline/sdk/kafka/event-time';
import { logsRequest, traceIdOf, traceRequest } from '../../exporters/kafka/otlp-fixtures';

const settings = () => ({
  id: 'receivers.kafka',
  name: 'kafka',
  logger: pino({ level: 'silent' }),
  metrics: new Registry(),
});
const next: ReceiverNext = { traces: { capabilities: { mutatesData: false }, consumeTraces: async () => undefined } };

describe('kafka receiver: watermark records', () => {
  const consumed = (
    offset: number,
    m: { key: Buffer | null; value: Buffer; timestamp: string; headers?: Record<string, string> },
  ) => ({
    offset: String(offset),
    key: m.key,
    value: m.value,
    timestamp: m.timestamp,
    headers: m.headers && Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, Buffer.from(v)])),
  });

  it('move the partition clock, are settled at once, never delivered; chunks carry clock and accept time', () => {
    const clock = new PartitionClock(30_000);
    const part = new PartitionState('spans', 2, 'traces', clock);
    const id = traceIdOf(7);
    const data = { key: Buffer.from(id), value: Buffer.from(traceRequest({ traceIds: [id], spansPerTrace: 2 })) };
    const batch = collectBatch(
      part,
      [
        consumed(10, watermarkMessage('ingest-a', 2, 1_000)),
        consumed(11, { ...data, timestamp: '1500' }),
        consumed(12, watermarkMessage('ingest-b', 2, 1_200)),
        consumed(13, watermarkMessage('ingest-a', 2, 2_000)),
      ],
      false,
      5_000,
    );
    expect(batch.fresh).to.equal(4);
    expect(batch.entries.map((e) => e.offset)).to.deep.equal([11], 'only the data record is delivered');
    const chunk = batch.entries[0].traces?.[0];
    expect(chunk?.eventTime?.acceptedAt).to.equal(1_500);
    expect(chunk?.eventTime?.clock).to.equal(clock);
    expect(clock.watermark(5_000)).to.equal(1_200, 'the lowest writer');
    expect(part.watermark.unsettledCount).to.equal(1);
    expect(part.watermark.commitOffset).to.equal(11, 'watermark record 10 settled; 11 waits for its trace');
    part.watermark.settle(11);
    expect(part.watermark.commitOffset).to.equal(14, 'records 12 and 13 were settled at once');
  });

  it('a topic without watermark records leaves the clock without a watermark (wall-clock decisions)', () => {
    const part = new PartitionState('spans', 0, 'traces', new PartitionClock(30_000));
    const id = traceIdOf(8);
    const value = Buffer.from(traceRequest({ traceIds: [id], spansPerTrace: 1 }));
    const batch = collectBatch(part, [consumed(0, { key: Buffer.from(id), value, timestamp: '42' })], false, 0);
    expect(batch.entries).to.have.length(1);
    expect(part.clock.watermark(0)).to.equal(undefined);
  });

  it('log chunks carry no clock: logs partitions stay out of the event time', () => {
    const part = new PartitionState('logs', 2, 'logs', new PartitionClock(30_000));
    const id = traceIdOf(9);
    const value = Buffer.from(logsRequest([id], 2));
    const batch = collectBatch(part, [consumed(0, { key: Buffer.from(id), value, timestamp: '1500' })], false, 0);
    expect(batch.entries).to.have.length(1);
    const chunk = batch.entries[0].logs?.[0];
    expect(chunk?.traceId).to.equal(id);
    expect(chunk && 'eventTime' in chunk).to.equal(false);
  });
});

describe('kafka receiver: messages to chunks', () => {
  it('accepts a 32-hex key as the trace id, lowercased; refuses anything else', () => {
    const id = traceIdOf(3);
    expect(traceIdOfKey(Buffer.from(id))).to.equal(id);
    expect(traceIdOfKey(Buffer.from(id.toUpperCase()))).to.equal(id);
    expect(traceIdOfKey(null)).to.equal(undefined);
    expect(traceIdOfKey(Buffer.from(id.slice(1)))).to.equal(undefined);
    expect(traceIdOfKey(Buffer.from(`${id.slice(1)}g`))).to.equal(undefined);
    expect(traceIdOfKey(Buffer.from('0'.repeat(32)))).to.equal(undefined);
    expect(traceIdOfKey(Buffer.from(id, 'hex'))).to.equal(undefined, '16 raw bytes are not the wire format');
  });

  it('turns a keyed message into one chunk: the value as is, spans counted', () => {
    const id = traceIdOf(1);
    const value = Buffer.from(traceRequest({ traceIds: [id], spansPerTrace: 4 }));
    const e = entryOf('traces', 17, Buffer.from(id), value);
    expect(e.offset).to.equal(17);
    expect(e.traces).to.have.length(1);
    expect(e.traces?.[0].traceId).to.equal(id);
    expect(e.traces?.[0].spanCount).to.equal(4);
    expect(e.traces?.[0].data).to.equal(value);
  });

  it('derives trace ids from the payload when the key is missing (one chunk per trace)', () => {
    const ids = [traceIdOf(1), traceIdOf(2), traceIdOf(3)];
    const e = entryOf('traces', 0, null, Buffer.from(traceRequest({ traceIds: ids, spansPerTrace: 2 })));
    expect(e.traces?.map((c) => c.traceId)).to.deep.equal(ids);
    expect(e.traces?.map((c) => c.spanCount)).to.deep.equal([2, 2, 2]);
  });

  it('counts the spans of a keyless message left out for an invalid trace id', () => {
    const good = traceIdOf(4);
    const e = entryOf(
      'traces',
      0,
      null,
      Buffer.from(traceRequest({ traceIds: ['0'.repeat(32), good], spansPerTrace: 2 })),
    );
    expect(e.traces?.map((c) => c.traceId)).to.deep.equal([good]);
    expect(e.invalid).to.equal(2);
  });

  it('does the same for log topics (records without a trace go to traceId "")', () => {
    const ids = [traceIdOf(1), ''];
    const keyed = entryOf('logs', 0, Buffer.from(ids[0]), Buffer.from(logsRequest([ids[0]], 3)));
    expect(keyed.logs?.map((c) => [c.traceId, c.recordCount])).to.deep.equal([[ids[0], 3]]);
    const unkeyed = entryOf('logs', 1, null, Buffer.from(logsRequest(ids, 2)));
    expect(unkeyed.logs?.map((c) => [c.traceId, c.recordCount])).to.deep.equal([
      [ids[0], 2],
      ['', 2],
    ]);
  });

  it('throws a permanent decode error for a value that is not OTLP (poison)', () => {
    let err: unknown;
    try {
      entryOf('traces', 0, null, Buffer.from([0x0a, 0xff, 0xff, 0x01, 0x02]));
    } catch (e) {
      err = e;
    }
    expect(isPermanent(err)).to.equal(true);
  });

  it('gives an empty request no chunks (nothing to deliver)', () => {
    expect(entryOf('traces', 0, null, Buffer.alloc(0)).traces).to.deep.equal([]);
  });
});

describe('kafka receiver: config and factory', () => {
  it('has the documented defaults', () => {
    const c = factory.createDefaultConfig();
    expect(c).to.include({
      group: 'tusk-sampler',
      logs_topic: '',
      session_timeout: 30_000,
      max_inflight_bytes_per_partition: 16 * 1024 * 1024,
      commit_interval: 1000,
      start_from: 'earliest',
      fetch_max_wait: 250,
      detach_after: 5000,
      shutdown_drain_timeout: 5000,
      create_topics: true,
      partitions: 8,
    });
    expect(c.topic).to.deep.equal(['otlp_spans']);
    expect(c.brokers).to.deep.equal(['127.0.0.1:9092']);
    expect(c.dead_letter).to.equal(undefined, 'no dead-lettering by default');
  });

  it('takes topic and brokers as lists or comma-separated strings', () => {
    const c = kafkaReceiverConfigSchema.parse({
      topic: 'a,b',
      brokers: 'k1:9092,k2:9093',
      session_timeout: '10s',
      max_inflight_bytes_per_partition: '1MiB',
    });
    expect(c.topic).to.deep.equal(['a', 'b']);
    expect(c.brokers).to.deep.equal(['k1:9092', 'k2:9093']);
    expect(c.session_timeout).to.equal(10_000);
    expect(c.max_inflight_bytes_per_partition).to.equal(1024 * 1024);
    expect(kafkaReceiverConfigSchema.parse({ detach_after: '0' }).detach_after).to.equal(0, '0 = never detach');
  });

  for (const [what, input] of [
    ['an unknown key', { groups: 'x' }],
    ['no topic at all', { topic: [] }],
    ['the same topic twice', { topic: 'a', logs_topic: 'a' }],
    ['a dead-letter topic equal to the input', { dead_letter: { topic: 'otlp_spans' } }],
    ['a dead_letter section without a topic', { dead_letter: {} }],
    ['dead_letter client settings without dead_letter brokers', { dead_letter: { topic: 'dlq', tls: {} } }],
    ['a session timeout below the broker minimum (6s)', { session_timeout: '1s' }],
    ['an unknown start_from', { start_from: 'middle' }],
    ['a detach_after that is not a duration', { detach_after: 'soon' }],
    ['a negative detach_after', { detach_after: '-1s' }],
  ] as [string, unknown][]) {
    it(`rejects ${what}`, () => {
      expect(kafkaReceiverConfigSchema.safeParse(input).success).to.equal(false);
    });
  }

  it('allows a logs-only receiver', () => {
    const c = kafkaReceiverConfigSchema.parse({ topic: [], logs_topic: 'otlp_logs' });
    expect(c.topic).to.deep.equal([]);
  });

  it('refuses at create a logs_topic when no logs pipeline uses the receiver', () => {
    let err: unknown;
    try {
      factory.create(settings(), kafkaReceiverConfigSchema.parse({ logs_topic: 'otlp_logs' }), next);
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string }).code).to.equal(KafkaErrorCode.CONFIG);
    expect(isPermanent(err)).to.equal(true);
  });

  it('is not ready once no heartbeat was answered for longer than session_timeout', () => {
    const cfg = { ...factory.createDefaultConfig(), session_timeout: 6000 };
    const r = factory.create(settings(), cfg, next);
    const state = r as unknown as { _joined: boolean; _heartbeatAt: number };
    state._joined = true;
    state._heartbeatAt = Date.now() - 2000;
    expect(r.health?.().ready, 'heartbeat 2 s ago').to.equal(true);
    state._heartbeatAt = Date.now() - 7000;
    const h = r.health?.();
    expect(h?.ready, 'heartbeat 7 s ago').to.equal(false);
    expect(h?.detail).to.match(/no heartbeat answered for 7 s \(session_timeout 6 s\)/);
  });

  it('can be shut down without start, twice, and is not ready', async () => {
    const r = factory.create(settings(), factory.createDefaultConfig(), next);
    expect(r.health?.().ready).to.equal(false);
    await r.shutdown();
    await r.shutdown();
  });
});
