// Co-partitioned logs against the real broker, with real collector processes: an ingest process (OTLP/HTTP in,
// `kafka` exporter out to a traces topic and a logs topic of 7 partitions each) and two sampler processes in
// one consumer group (`kafka` receiver reading both topics, tail_sampling with in-memory state, so no ledger
// can carry a decision from one sampler to the other, and a debug exporter writing to a file). Traces with
// their logs (some logs sent before their spans, some after): the logs of kept (error) traces are written by
// the sampler that wrote their spans, within a few seconds of the trace although decision_wait is 10 s, and
// the logs of dropped traces are never written. 7 partitions for 2 members: kafkajs's round robin would split
// partition N of the two topics between the members. Then topics with different partition counts: the
// receiver and the exporter say so in their health.

import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AssignerProtocol } from 'kafkajs';
import { encodeTraces } from '../../pipeline/sdk/otlp';
import type { Receiver } from '../../pipeline/sdk/component';
import { factory as exporterFactory } from '../../exporters/kafka/factory';
import type { KafkaExporter } from '../../exporters/kafka/exporter';
import { factory as receiverFactory } from '../../receivers/kafka/factory';
import { startCollector, type CollectorProcess } from '../helpers/collector-process';
import { fetchReadyz, waitUntil } from '../helpers/admin';
import { freePort } from '../helpers/ports';
import { newTraceId, resourceSpans } from '../pipeline/sdk/exporterhelper/fixtures';
import { debugLinesOf, logsOf, postProtobuf, twoSpanTrace } from '../helpers/logs-traffic';
import { logsRequest, traceIdOf, traceRequest } from '../exporters/kafka/otlp-fixtures';
import {
  BROKERS,
  KafkaSuite,
  rawKafka,
  receiverConfig,
  settingsFor,
  TestHost,
  uniqueGroup,
  uniqueName,
} from './kafka-helpers';

const PARTITIONS = 7;
const DECISION_WAIT_MS = 10_000;

const INGEST = `
[service]
admin: @env("TUSK_ADMIN_ENDPOINT")

[receivers.otlp]
http {
    endpoint: @env("OTLP_HTTP_ENDPOINT")
}
grpc {
    endpoint: ""
}

[exporters.kafka]
brokers: ["${BROKERS.join('", "')}"]
topic: @env("SPANS_TOPIC")
logs_topic: @env("LOGS_TOPIC")
linger: "1ms"

[pipelines.ingest]
receivers: ["otlp"]
exporters: ["kafka"]
`;

const SAMPLER = `
[service]
admin: @env("TUSK_ADMIN_ENDPOINT")

[receivers.kafka]
brokers: ["${BROKERS.join('", "')}"]
topic: @env("SPANS_TOPIC")
logs_topic: @env("LOGS_TOPIC")
group: @env("GROUP")
session_timeout: "6s"
commit_interval: "200ms"
fetch_max_wait: "50ms"
fetch_min_bytes: "1"

[processors.tail_sampling]
state: "memory"
decision_wait: "${DECISION_WAIT_MS / 1000}s"
root_settle_delay: "300ms"
policies: [
  { name: "errors", type: "status_code", codes: ["ERROR"] },
]

[exporters.debug]
format: "json"
path: @env("DEBUG_OUT")

[pipelines.sample]
receivers: ["kafka"]
processors: ["tail_sampling"]
exporters: ["debug"]
`;

describe('kafka co-partitioned logs (real broker, ingest + two samplers)', function () {
  this.timeout(180_000);
  const kafka = new KafkaSuite();
  const procs: CollectorProcess[] = [];
  const receivers: Receiver[] = [];
  const exporters: KafkaExporter[] = [];

  before(() => kafka.connect());

  after(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGTERM', 30_000).catch(() => undefined)));
    for (const r of receivers) await r.shutdown();
    for (const e of exporters) await e.shutdown();
    await kafka.close();
  });

  it("delivers a trace's logs to its spans' sampler: kept or dropped with the trace, fast", async () => {
    const spansTopic = await kafka.newTopic('t-copart-spans', PARTITIONS);
    const logsTopic = await kafka.newTopic('t-copart-logs', PARTITIONS);
    const group = uniqueGroup('g-copart');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-copart-'));
    fs.writeFileSync(path.join(dir, 'ingest.tsk'), INGEST);
    fs.writeFileSync(path.join(dir, 'sampler.tsk'), SAMPLER);
    const topics = { SPANS_TOPIC: spansTopic, LOGS_TOPIC: logsTopic };

    const samplers: { admin: number; out: string }[] = [];
    for (const name of ['a', 'b']) {
      const admin = await freePort();
      const out = path.join(dir, `sampler-${name}.jsonl`);
      const env = { ...topics, GROUP: group, TUSK_ADMIN_ENDPOINT: `127.0.0.1:${admin}`, DEBUG_OUT: out };
      procs.push(await startCollector(path.join(dir, 'sampler.tsk'), [], env));
      samplers.push({ admin, out });
    }
    const [http, ingestAdmin] = [await freePort(), await freePort()];
    const ingestEnv = {
      ...topics,
      OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
      TUSK_ADMIN_ENDPOINT: `127.0.0.1:${ingestAdmin}`,
    };
    procs.push(await startCollector(path.join(dir, 'ingest.tsk'), [], ingestEnv));

    // The group is stable with both members, each holding partition N of both topics together.
    const view = await waitUntil(
      async () => {
        const { groups } = await kafka.admin.describeGroups([group]);
        const g = groups[0];
        if (g?.state !== 'Stable' || g.members.length !== 2) return undefined;
        const byMember = g.members.map((m) => AssignerProtocol.MemberAssignment.decode(m.memberAssignment));
        const spans = byMember.flatMap((a) => a?.assignment[spansTopic] ?? []);
        return new Set(spans).size === PARTITIONS ? { protocol: g.protocol, byMember } : undefined;
      },
      60_000,
      300,
    );
    expect(view, 'group stable with 2 members over every partition').to.not.equal(undefined);
    expect(view?.protocol).to.equal('TuskCoPartitioned');
    for (const a of view?.byMember ?? []) {
      const spans = [...(a?.assignment[spansTopic] ?? [])].sort();
      expect(spans.length).to.be.within(3, 4);
      expect([...(a?.assignment[logsTopic] ?? [])].sort()).to.deep.equal(spans);
    }
    for (const s of samplers) {
      const ready = await waitUntil(async () => {
        const r = await fetchReadyz(s.admin);
        const k = r.components.find((c) => c.id === 'receivers.kafka');
        return r.ready && k?.ready ? k : undefined;
      }, 30_000);
      expect(ready?.degraded, ready?.detail).to.not.equal(true);
    }

    // 24 traces, one in three kept (an error span); half with their logs sent first, half after their spans.
    const traces = Array.from({ length: 24 }, (_, i) => ({
      id: newTraceId(),
      kept: i % 3 === 0,
      logsFirst: i % 2 === 0,
    }));
    const base = `http://127.0.0.1:${http}`;
    const sentAt = Date.now();
    const logsBody = (ids: typeof traces) =>
      logsOf(
        'shop',
        ids.flatMap((t) => [0, 1].map((n) => ({ traceId: t.id, body: `log ${n} of ${t.id}` }))),
      );
    const spansBody = (ids: typeof traces) =>
      encodeTraces([
        resourceSpans(
          'shop',
          ids.flatMap((t) => twoSpanTrace(t.id, t.kept)),
        ),
      ]);
    const first = traces.filter((t) => t.logsFirst);
    const second = traces.filter((t) => !t.logsFirst);
    // Both answers wait for the decision (ack "settled" all the way): post without awaiting in between.
    const answers = Promise.all([
      postProtobuf(`${base}/v1/logs`, logsBody(first)),
      postProtobuf(`${base}/v1/traces`, spansBody(traces)),
      new Promise((r) => setTimeout(r, 200)).then(() => postProtobuf(`${base}/v1/logs`, logsBody(second))),
    ]);

    const kept = traces.filter((t) => t.kept);
    const keptLogs = () =>
      samplers.flatMap((s, i) =>
        debugLinesOf(s.out)
          .filter((l) => l.body !== undefined)
          .map((l) => ({ ...l, sampler: i })),
      );
    const all = await waitUntil(async () => (keptLogs().length >= kept.length * 2 ? true : undefined), 8_000, 100);
    const decidedMs = Date.now() - sentAt;
    console.log(
      `      [copart] every kept log written ${decidedMs} ms after sending (decision_wait ${DECISION_WAIT_MS} ms)`,
    );
    expect(all, `logs of kept traces written: ${keptLogs().length} of ${kept.length * 2}`).to.equal(true);
    expect(decidedMs, 'every kept log written well before decision_wait').to.be.below(DECISION_WAIT_MS / 2);
    expect(await answers).to.deep.equal([200, 200, 200]);

    // Wait past decision_wait: nothing of a dropped trace shows up, and nothing is written twice.
    await new Promise((r) => setTimeout(r, DECISION_WAIT_MS + 2_000));
    const lines = samplers.map((s) => debugLinesOf(s.out));
    const samplerOf = new Map<string, number>();
    for (let i = 0; i < lines.length; i++)
      for (const l of lines[i]) if (l.name !== undefined) samplerOf.set(l.traceId, i);
    for (const t of traces) {
      const spans = lines.flat().filter((l) => l.traceId === t.id && l.name !== undefined);
      const logs = lines.flatMap((ls, i) =>
        ls.filter((l) => l.traceId === t.id && l.body !== undefined).map((l) => ({ body: l.body?.stringValue, i })),
      );
      if (!t.kept) {
        expect(spans, `dropped trace ${t.id}: no spans`).to.have.length(0);
        expect(logs, `dropped trace ${t.id}: no logs`).to.have.length(0);
        continue;
      }
      expect(spans, `kept trace ${t.id}: its spans`).to.have.length(2);
      expect(logs.map((l) => l.body).sort(), `kept trace ${t.id}: its logs, once`).to.deep.equal([
        `log 0 of ${t.id}`,
        `log 1 of ${t.id}`,
      ]);
      for (const l of logs)
        expect(l.i, `kept trace ${t.id}: logs written by the sampler of its spans`).to.equal(samplerOf.get(t.id));
    }
    // Both samplers decided some kept traces (the traces spread over the partitions).
    expect(new Set(samplerOf.values()).size).to.equal(2);
  });

  it('says so in health when the logs topic has another partition count than the traces topic', async () => {
    const spansTopic = await kafka.newTopic('t-copart-6', 6);
    const logsTopic = await kafka.newTopic('t-copart-4', 4);
    const group = uniqueGroup('g-copart-mismatch');
    const host = new TestHost();
    const next = {
      traces: { capabilities: { mutatesData: false }, consumeTraces: async () => undefined },
      logs: { consumeLogs: async () => undefined },
    };
    const rcfg = receiverFactory.configSchema.parse(receiverConfig(spansTopic, group, 6, { logs_topic: logsTopic }));
    const receiver = receiverFactory.create(settingsFor('receivers.kafka'), rcfg, next);
    receivers.push(receiver);
    await receiver.start(host);
    const health = await waitUntil(async () => {
      const h = receiver.health?.();
      return h?.ready ? h : undefined;
    }, 60_000);
    expect(health?.degraded).to.equal(true);
    expect(health?.detail).to.include('not co-partitioned').and.include(`${logsTopic} has 4`);

    const ecfg = exporterFactory.configSchema.parse({ brokers: BROKERS, topic: spansTopic, logs_topic: logsTopic });
    const exporter = exporterFactory.create(settingsFor('exporters.kafka'), ecfg) as KafkaExporter;
    exporters.push(exporter);
    await exporter.start(host);
    const id = traceIdOf(1);
    await exporter.consumeLogs({ chunks: [{ traceId: id, data: logsRequest([id]), recordCount: 1 }] });
    const eh = await waitUntil(async () => (exporter.health().degraded ? exporter.health() : undefined), 15_000);
    expect(eh?.ready).to.equal(true);
    expect(eh?.detail).to.include('not co-partitioned').and.include(`${spansTopic} has 6`);
    expect(host.fatal).to.deep.equal([]);
  });

  it("writes a trace's logs to its spans' partition number; creates the logs topic like the traces topic", async () => {
    const spansTopic = await kafka.newTopic('t-copart-5', 5);
    const logsTopic = uniqueName('t-copart-created');
    kafka.ownTopic(logsTopic);
    const ecfg = exporterFactory.configSchema.parse({
      brokers: BROKERS,
      topic: spansTopic,
      logs_topic: logsTopic,
      partitions: 8,
    });
    const exporter = exporterFactory.create(settingsFor('exporters.kafka'), ecfg) as KafkaExporter;
    exporters.push(exporter);
    await exporter.start(new TestHost());
    const ids = Array.from({ length: 20 }, (_, i) => traceIdOf(100 + i));
    await exporter.consumeTraces({
      chunks: ids.map((traceId) => ({
        traceId,
        data: traceRequest({ traceIds: [traceId], spansPerTrace: 1 }),
        spanCount: 1,
      })),
    });
    for (let round = 0; round < 2; round++)
      // the first call may go out before the counts were compared
      await exporter.consumeLogs({
        chunks: ids.map((traceId) => ({ traceId, data: logsRequest([traceId]), recordCount: 1 })),
      });
    const md = await kafka.admin.fetchTopicMetadata({ topics: [logsTopic] });
    expect(md.topics[0].partitions).to.have.length(5);
    const where = async (topic: string): Promise<Map<string, Set<number>>> => {
      const out = new Map<string, Set<number>>();
      const offsets = await kafka.admin.fetchTopicOffsets(topic);
      const consumer = rawKafka().consumer({ groupId: uniqueGroup('g-copart-read') });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const total = offsets.reduce((n, p) => n + Number(p.high), 0);
      let seen = 0;
      await new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ partition, message }) => {
            const key = message.key?.toString() ?? '';
            if (key !== '') (out.get(key) ?? out.set(key, new Set()).get(key))?.add(partition);
            if (++seen >= total) resolve();
          },
        });
      });
      await consumer.disconnect();
      return out;
    };
    const spans = await where(spansTopic);
    const logs = await where(logsTopic);
    for (const id of ids) expect([...(logs.get(id) ?? [])], id).to.deep.equal([...(spans.get(id) ?? [])]);
    expect(new Set([...spans.values()].flatMap((s) => [...s])).size).to.be.above(1);
    expect(exporter.health().degraded).to.not.equal(true);
  });
});
