// Tests of ProduceBatcher with a fake send function: linger batching across callers, the request size cap,
// settlement only after acknowledgement, error mapping, isolation of a permanent failure, the in-flight
// byte bound (BackpressureError), produce_timeout, and close.

import { expect } from 'chai';
import type { TopicMessages } from 'kafkajs';
import { Registry } from 'prom-client';
import { BackpressureError, isPermanent, isRetriable, type PipelineError } from '../../../pipeline/sdk/errors';
import { KafkaErrorCode } from '../../../pipeline/sdk/kafka/errors';
import {
  BATCH_OVERHEAD_BYTES,
  ProduceBatcher,
  recordSize,
  type BatcherOptions,
  type OutMessage,
} from '../../../exporters/kafka/batcher';
import { KafkaExporterMetrics } from '../../../exporters/kafka/metrics';
import { InFlightAcceptTimes } from '../../../pipeline/sdk/kafka/event-time';

interface Call {
  readonly topicMessages: TopicMessages[];
  resolve(): void;
  reject(err: unknown): void;
}

/** FakeSend records requests and lets the test acknowledge or fail each one. */
class FakeSend {
  readonly calls: Call[] = [];
  auto?: 'ok' | ((tm: TopicMessages[]) => unknown);

  readonly fn = (topicMessages: TopicMessages[]): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      this.calls.push({ topicMessages, resolve, reject });
      if (this.auto === 'ok') resolve();
      else if (typeof this.auto === 'function') {
        const err = this.auto(topicMessages);
        if (err) reject(err);
        else resolve();
      }
    });

  values(i: number): string[] {
    return this.calls[i].topicMessages.flatMap((tm) => tm.messages.map((m) => (m.value as Buffer).toString()));
  }
}

function msg(value: string, topic = 't', key = 'k'): OutMessage {
  return { topic, key: Buffer.from(key), value: Buffer.from(value) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function make(opts: Partial<BatcherOptions> = {}): { b: ProduceBatcher; send: FakeSend; reg: Registry } {
  const send = new FakeSend();
  const reg = new Registry();
  const b = new ProduceBatcher(
    {
      component: 'exporters.test',
      lingerMs: 20,
      batchMaxBytes: 64 * 1024,
      maxInflightBytes: 1024 * 1024,
      produceTimeoutMs: 2000,
      ...opts,
    },
    send.fn,
    new KafkaExporterMetrics(reg, 'exporters.test'),
  );
  return { b, send, reg };
}

async function settled(p: Promise<unknown>): Promise<'resolved' | 'pending' | Error> {
  let state: 'resolved' | 'pending' | Error = 'pending';
  p.then(
    () => (state = 'resolved'),
    (e: Error) => (state = e),
  );
  await sleep(5);
  return state;
}

async function metricValue(reg: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await reg.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => String(x.labels[k]) === val));
  return v?.value ?? 0;
}

describe('kafka exporter: ProduceBatcher', () => {
  it('gathers the messages of concurrent calls within linger into one request, and resolves each only after the ack', async () => {
    const { b, send } = make();
    const p1 = b.submit([msg('a1'), msg('a2')]);
    const p2 = b.submit([msg('b1')]);
    expect(send.calls).to.have.length(0, 'nothing is sent before linger ends');
    await sleep(40);
    expect(send.calls).to.have.length(1);
    expect(send.values(0)).to.deep.equal(['a1', 'a2', 'b1']);
    expect(await settled(p1)).to.equal('pending');
    send.calls[0].resolve();
    await Promise.all([p1, p2]);
    expect(b.inflightBytes).to.equal(0);
  });

  it('with linger 0 sends each call at once', async () => {
    const { b, send } = make({ lingerMs: 0 });
    send.auto = 'ok';
    await b.submit([msg('x')]);
    await b.submit([msg('y')]);
    expect(send.calls.map((_, i) => send.values(i))).to.deep.equal([['x'], ['y']]);
  });

  it('caps a request at batch_max_bytes (record overhead included) and resolves a call split over several requests only when all are acked', async () => {
    const cap = 4096;
    const { b, send } = make({ batchMaxBytes: cap, lingerMs: 5 });
    const messages = Array.from({ length: 20 }, (_, i) => msg(String(i).padStart(1000, '.')));
    const p = b.submit(messages);
    await sleep(20);
    // Requests go one at a time: ack them as they come.
    for (let i = 0; i < 50 && (await settled(p)) === 'pending'; i++) {
      const open = send.calls.length - 1;
      send.calls[open].resolve();
      await sleep(2);
    }
    await p;
    const perRequest = Math.floor((cap - BATCH_OVERHEAD_BYTES) / recordSize(messages[0])); // whole messages only: 3
    expect(send.calls.length).to.equal(Math.ceil(20 / perRequest));
    for (let i = 0; i < send.calls.length; i++) {
      const bytes = send.calls[i].topicMessages
        .flatMap((tm) => tm.messages)
        .reduce((n, m) => n + recordSize({ topic: 't', key: m.key as Buffer, value: m.value as Buffer }), 0);
      expect(bytes).to.be.at.most(cap - BATCH_OVERHEAD_BYTES);
    }
    expect(send.calls.flatMap((_, i) => send.values(i))).to.deep.equal(messages.map((m) => m.value.toString()));
  });

  it('does not resolve a call whose second request has not been acknowledged', async () => {
    const { b, send } = make({ batchMaxBytes: 4096, lingerMs: 5 });
    const p = b.submit(Array.from({ length: 6 }, (_, i) => msg(String(i).padStart(1000, '.'))));
    await sleep(20);
    send.calls[0].resolve();
    await sleep(10);
    expect(send.calls).to.have.length(2);
    expect(await settled(p)).to.equal('pending');
    send.calls[1].resolve();
    await p;
  });

  it('rejects the callers of a failed request with a retriable ERR_KAFKA_PRODUCE', async () => {
    const { b, send, reg } = make({ lingerMs: 5 });
    send.auto = () =>
      Object.assign(new Error('Connection error: connect ECONNREFUSED'), {
        name: 'KafkaJSNumberOfRetriesExceeded',
        retriable: false,
        cause: Object.assign(new Error('ECONNREFUSED'), { name: 'KafkaJSConnectionError', retriable: true }),
      });
    const results = await Promise.allSettled([b.submit([msg('a')]), b.submit([msg('b')])]);
    for (const r of results) {
      expect(r.status).to.equal('rejected');
      const err = (r as PromiseRejectedResult).reason as PipelineError;
      expect(err.code).to.equal(KafkaErrorCode.PRODUCE);
      expect(isRetriable(err)).to.equal(true);
    }
    expect(await metricValue(reg, 'tusk_kafka_produce_errors_total', { retriable: 'true', reason: 'kafka' })).to.equal(
      2,
    );
    expect(b.inflightBytes).to.equal(0);
  });

  it('isolates a permanent failure: each caller is retried alone so only the culprit fails', async () => {
    const { b, send } = make({ lingerMs: 5 });
    const tooLarge = Object.assign(
      new Error('The request included a message larger than the max message size the server will accept'),
      { name: 'KafkaJSProtocolError', type: 'MESSAGE_TOO_LARGE', retriable: false },
    );
    send.auto = (tm) =>
      tm.some((t) => t.messages.some((m) => (m.value as Buffer).toString() === 'huge')) ? tooLarge : undefined;
    const [good, bad] = await Promise.allSettled([b.submit([msg('fine')]), b.submit([msg('huge')])]);
    expect(good.status).to.equal('fulfilled');
    expect(bad.status).to.equal('rejected');
    const err = (bad as PromiseRejectedResult).reason as PipelineError;
    expect(isPermanent(err)).to.equal(true);
    expect(err.code).to.equal(KafkaErrorCode.MESSAGE_TOO_LARGE);
    expect(send.calls).to.have.length(3);
  });

  it('rejects at once with BackpressureError beyond max_inflight_bytes, and accepts again once acknowledged', async () => {
    const { b, send, reg } = make({ maxInflightBytes: 4096, lingerMs: 1 });
    const first = b.submit([msg('x'.repeat(3000))]);
    const second = b.submit([msg('y'.repeat(2000))]);
    const err = await second.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(BackpressureError);
    expect((err as BackpressureError).retryAfterMs).to.be.greaterThan(0);
    expect(b.inflightBytes).to.equal(recordSize(msg('x'.repeat(3000))));
    await sleep(10);
    send.calls[0].resolve();
    await first;
    send.auto = 'ok';
    await b.submit([msg('y'.repeat(2000))]);
    expect(await metricValue(reg, 'tusk_kafka_produce_errors_total', { reason: 'backpressure' })).to.equal(1);
  });

  it('admits one call larger than the whole budget when nothing else is in flight', async () => {
    const { b, send } = make({ maxInflightBytes: 4096, batchMaxBytes: 64 * 1024, lingerMs: 1 });
    send.auto = 'ok';
    await b.submit([msg('z'.repeat(10_000))]);
  });

  it('rejects retriably with ERR_KAFKA_PRODUCE_TIMEOUT when Kafka does not ack within produce_timeout, and keeps the bytes counted until the send ends', async () => {
    const { b, send } = make({ produceTimeoutMs: 150, lingerMs: 1 });
    const started = Date.now();
    const err = (await b.submit([msg('slow')]).then(
      () => undefined,
      (e: unknown) => e,
    )) as PipelineError;
    const took = Date.now() - started;
    expect(err.code).to.equal(KafkaErrorCode.PRODUCE_TIMEOUT);
    expect(isRetriable(err)).to.equal(true);
    expect(took).to.be.within(140, 400);
    expect(b.inflightBytes).to.equal(recordSize(msg('slow')), 'the request is still in flight');
    send.calls[0].resolve();
    await sleep(5);
    expect(b.inflightBytes).to.equal(0);
  });

  it('names the last Kafka error the exporter saw in a produce timeout, and nothing when there is none', async () => {
    let last: string | undefined = 'SASL PLAIN authentication failed: Invalid username or password';
    const { b, send } = make({ produceTimeoutMs: 50, lingerMs: 1, lastError: () => last });
    const first = (await b.submit([msg('a')]).then(
      () => undefined,
      (e: unknown) => e,
    )) as PipelineError;
    expect(first.code).to.equal(KafkaErrorCode.PRODUCE_TIMEOUT);
    expect(first.message).to.match(
      /within produce_timeout \(50ms\); last Kafka error: SASL PLAIN authentication failed/,
    );
    last = undefined;
    const second = (await b.submit([msg('b')]).then(
      () => undefined,
      (e: unknown) => e,
    )) as PipelineError;
    expect(second.message).to.not.include('last Kafka error');
    for (const c of send.calls) c.resolve();
  });

  it('does not send the queued messages of a caller that already timed out', async () => {
    const { b, send } = make({ produceTimeoutMs: 100, lingerMs: 1, batchMaxBytes: 4096 });
    const p = b.submit(Array.from({ length: 6 }, (_, i) => msg(String(i).padStart(1000, '.'))));
    const failed = p.then(
      () => 'resolved',
      (e: PipelineError) => e.code,
    );
    expect(await failed).to.equal(KafkaErrorCode.PRODUCE_TIMEOUT);
    expect(send.calls).to.have.length(1, 'only the request already in flight was sent');
    send.calls[0].resolve();
    await sleep(20);
    expect(send.calls).to.have.length(1);
    expect(b.inflightBytes).to.equal(0);
  });

  it('after close rejects new calls with ShutdownError, waits for in-flight ones, and fails what is left retriably', async () => {
    const { b, send } = make({ lingerMs: 50 });
    const inflight = b.submit([msg('a')]);
    const closing = b.close(100);
    const late = await b.submit([msg('b')]).then(
      () => undefined,
      (e: PipelineError) => e,
    );
    expect(late?.code).to.equal('ERR_PIPELINE_SHUTDOWN');
    expect(send.calls).to.have.length(1, 'close sends what was accepted without waiting for linger');
    send.calls[0].resolve();
    await closing;
    await inflight;
  });

  it('writes accept time and partition; counts watermarked messages in flight until their request ends', async () => {
    const inFlight = new InFlightAcceptTimes();
    const { b, send } = make({ lingerMs: 0, inFlight });
    const m = { ...msg('a'), acceptedAt: 1_000, partition: 3, watermarked: true };
    const p1 = b.submit([m, { ...msg('b'), acceptedAt: 1_000 }]);
    expect(inFlight.oldest(3)).to.equal(1_000);
    expect(inFlight.oldest(0)).to.equal(undefined, 'only watermarked messages count');
    await sleep(1);
    const sent = send.calls[0].topicMessages[0].messages;
    expect(sent[0]).to.include({ partition: 3, timestamp: '1000' });
    expect(sent[1]).to.include({ timestamp: '1000' });
    expect(sent[1]).to.not.have.property('partition');
    send.calls[0].reject(Object.assign(new Error('down'), { retriable: true }));
    await p1.catch(() => undefined);
    expect(inFlight.size).to.equal(0, 'a failed request is done too (its caller retries with a new accept time)');
    const p2 = b.submit([{ ...m, acceptedAt: 2_000 }]);
    await sleep(1);
    expect(inFlight.oldest(3)).to.equal(2_000);
    send.calls[1].resolve();
    await p2;
    expect(inFlight.size).to.equal(0);
  });

  it('keeps the messages of a timed-out call in flight while their request is still being sent', async () => {
    const inFlight = new InFlightAcceptTimes();
    const { b, send } = make({ lingerMs: 0, inFlight, produceTimeoutMs: 20 });
    const p = b.submit([{ ...msg('slow'), acceptedAt: 5, partition: 0, watermarked: true }]);
    await p.catch(() => undefined);
    expect(inFlight.oldest(0)).to.equal(5, 'Kafka may still write it');
    send.calls[0].resolve();
    await sleep(1);
    expect(inFlight.size).to.equal(0);
  });

  it('forgets the messages it never sent at close', async () => {
    const inFlight = new InFlightAcceptTimes();
    const { b, send } = make({ lingerMs: 0, inFlight });
    const first = b.submit([{ ...msg('x'), acceptedAt: 1, partition: 0, watermarked: true }]);
    const queued = b.submit([{ ...msg('y'), acceptedAt: 2, partition: 1, watermarked: true }]);
    await sleep(1);
    expect(send.calls).to.have.length(1);
    await b.close(10);
    await Promise.allSettled([first, queued]);
    expect(inFlight.oldest(1)).to.equal(undefined, 'the queued request was given up');
    expect(inFlight.oldest(0)).to.equal(1, 'the request being sent is still in flight');
  });
});
