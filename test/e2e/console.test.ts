// The web console in a real headless Chromium against the embedded pipeline and the real Jaeger: traffic with
// error, slow and healthy traces (one of 2,000 spans); then the pipeline page shows non-zero rates, an errors-only
// search finds the error traces, a trace page renders every span with the keeping policy beside it, a dropped
// trace opens its "dropped because" panel, the sampling page lists the service with its P95; and bad input
// (malformed id, unknown trace, Jaeger unreachable) is explained in words. The same pages of the cluster tiers
// (ingest, and a sampler with Redis state) are checked too, with the replicas each one lists (announced in
// Redis, links to their consoles, a stale one marked), the decisions stream pushed over SSE (and polled when
// the stream is refused), and a degraded service's boost with its end time. Screenshots:
// .stack/test-artifacts/console.

import { expect } from 'chai';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { freePort } from '../helpers/ports';
import { REPO_ROOT, startCollector, type CollectorProcess } from '../helpers/collector-process';
import { createProtoClient, sendTrace, type SdkClient } from '../helpers/sdk-client';
import { waitForTrace } from '../helpers/jaeger';
import { launchBrowser, shot, type TestBrowser } from '../helpers/browser';
import { runNames, startTier, stopAll, type Tier } from '../helpers/tiers';
import { deleteGroups, deleteTopics } from '../helpers/kafka-topic';
import { deletePrefix } from '../helpers/redis-keys';
import { portOpen } from '../helpers/stack';
import { Redis } from 'ioredis';
import { REDIS_URL } from '../helpers/redis-keys';

const EMBEDDED = path.join(REPO_ROOT, 'config', 'embedded.tsk');
const CLUSTER = path.join(REPO_ROOT, 'config', 'cluster.tsk');

async function startEmbedded(
  env: Record<string, string> = {},
): Promise<{ collector: CollectorProcess; otlp: string; admin: string }> {
  const [http, grpc, admin] = [await freePort(), await freePort(), await freePort()];
  const collector = await startCollector(EMBEDDED, [], {
    OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
    OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
    TUSK_ADMIN_ENDPOINT: `127.0.0.1:${admin}`,
    KEEP_PERCENT: '0',
    DECISION_WAIT: '2s',
    TUSK_CONSOLE_SAMPLE_INTERVAL: '1s',
    ...env,
  });
  return { collector, otlp: `http://127.0.0.1:${http}/v1/traces`, admin: `http://127.0.0.1:${admin}` };
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('e2e: web console in headless Chromium (embedded pipeline, real Jaeger)', function () {
  this.timeout(240_000);
  let collector: CollectorProcess | undefined;
  let browser: TestBrowser | undefined;
  let client: SdkClient | undefined;
  let page: Page;
  let admin = '';
  let trickle: NodeJS.Timeout | undefined;
  const service = `console-${process.pid}-${Date.now().toString(36)}`;
  const errorIds: string[] = [];
  let bigId = '';
  let droppedId = '';
  const pageErrors: string[] = [];

  before(async () => {
    const started = await startEmbedded();
    collector = started.collector;
    admin = started.admin;
    client = createProtoClient(service, started.otlp);
    const tracer = client.tracer;
    // Healthy traces build the P95 of (service, GET /items) past min_observations (100); KEEP_PERCENT=0 drops them.
    for (let i = 0; i < 130; i++) {
      const id = sendTrace(tracer, { rootName: 'GET /items', durationMs: 10 + (i % 20), children: 2 });
      if (i === 0) droppedId = id;
    }
    for (let i = 0; i < 3; i++)
      errorIds.push(sendTrace(tracer, { rootName: 'POST /pay', durationMs: 40, children: 3, errorChild: 1 }));
    bigId = sendTrace(tracer, { rootName: 'GET /report', durationMs: 900, children: 1999, errorChild: 1500 });
    errorIds.push(bigId);
    await client.flush();
    trickle = setInterval(() => {
      sendTrace(tracer, { rootName: 'GET /items', durationMs: 15, children: 1 });
      void client?.flush();
    }, 200);
    for (const id of errorIds)
      expect(
        (await waitForTrace(id, id === bigId ? 2000 : 4, 60_000))?.spans.length,
        `trace ${id} in Jaeger`,
      ).to.be.greaterThan(0);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });

  after(async () => {
    if (trickle) clearInterval(trickle);
    await browser?.close();
    await client?.shutdown();
    await collector?.stop('SIGTERM');
  });

  it('serves the bundled console at /ui/ without any outside request', async () => {
    const outside: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('http://127.0.0.1')) outside.push(r.url());
    });
    const res = await page.goto(`${admin}/ui/`);
    expect(res?.status()).to.equal(200);
    await page.waitForSelector('[data-testid=status] .dot');
    expect(await page.textContent('[data-testid=status]')).to.contain('embedded');
    expect(outside).to.deep.equal([]);
  });

  it('pipeline page: the graph with non-zero rates and the dependencies', async () => {
    await page.goto(`${admin}/ui/#/pipeline`);
    await page.waitForSelector('[data-testid=graph-node]');
    // Browser-side code is passed as text: the test typings have no DOM.
    await page.waitForFunction(
      `[...document.querySelectorAll('[data-rate=accepted]')].some((e) => !/ 0\\/s/.test(e.textContent))`,
      undefined,
      { timeout: 20_000 },
    );
    const nodes = await page.$$eval('[data-testid=graph-node]', (els) => els.map((e) => e.textContent ?? ''));
    expect(nodes.join(' ')).to.contain('otlp').and.contain('tail_sampling').and.contain('jaeger');
    expect(await page.textContent('[data-testid=dependencies]')).to.contain('exporters.jaeger');
    await page.waitForTimeout(1500); // let the charts take a few samples
    await shot(page, 'pipeline');
  });

  it('pipeline page: an embedded collector says there are no other replicas', async () => {
    await page.goto(`${admin}/ui/#/pipeline`);
    await page.waitForSelector('[data-testid=replicas-none]');
    expect(await page.textContent('[data-testid=replicas-none]')).to.contain('embedded mode');
  });

  it('traces page: an errors-only search finds the error traces', async () => {
    await page.goto(`${admin}/ui/#/traces?service=${service}&errors=true&limit=50`);
    await page.waitForSelector('[data-testid=result-count]');
    const rows = await page.$$eval('[data-testid=trace-row]', (els) => els.map((e) => e.textContent ?? ''));
    for (const id of errorIds)
      expect(
        rows.some((r) => r.includes(id)),
        `error trace ${id} listed`,
      ).to.equal(true);
    expect(
      rows.every((r) => /error/.test(r)),
      'every row is marked as an error',
    ).to.equal(true);
    await shot(page, 'traces-search');
  });

  it('trace page: a 2,000-span trace renders every span, scrolls smoothly, and shows the keeping policy', async () => {
    await page.goto(`${admin}/ui/#/trace/${bigId}`);
    await page.waitForSelector('[data-testid=waterfall]');
    expect(await page.getAttribute('[data-testid=waterfall]', 'data-rows')).to.equal('2000');
    expect(await page.textContent('[data-testid=decision-outcome]')).to.equal('kept');
    expect(await page.textContent('[data-testid=decision-policy]')).to.equal('errors');
    await shot(page, 'trace-2000-spans');
    // Scroll from top to bottom in steps and time the frames: a virtual list keeps each frame short.
    const frames = await page.evaluate<{ n: number; p50: number; max: number }>(`(async () => {
      const body = document.querySelector('.wf-body');
      const times = [];
      let last = performance.now();
      for (let y = 0; y <= body.scrollHeight; y += 400) {
        body.scrollTop = y;
        await new Promise((r) => requestAnimationFrame(() => r(null)));
        const now = performance.now();
        times.push(now - last);
        last = now;
      }
      times.sort((a, b) => a - b);
      return { n: times.length, p50: times[Math.floor(times.length / 2)], max: times[times.length - 1] };
    })()`);
    console.log(
      `      waterfall scroll over 2000 spans: ${frames.n} frames, ` +
        `p50 ${frames.p50.toFixed(1)} ms, max ${frames.max.toFixed(1)} ms`,
    );
    // The guarantee is structural (a virtual list: only the visible rows are in the DOM, checked below); frame
    // times vary with the load of the shared machine, so the bound here only catches a list that renders all rows.
    expect(frames.p50).to.be.below(100);
    const rowsInDom = await page.$$eval('[data-testid=span-row]', (els) => els.length);
    expect(rowsInDom, 'only the visible rows are in the DOM').to.be.below(200);
    expect(await page.textContent('.wf-body')).to.contain('step-1998');
    await page.$eval(
      '.wf-body',
      (el, y) => {
        el.scrollTop = y;
      },
      1501 * 24 - 200,
    );
    await page.click('text=step-1500');
    expect(await page.textContent('[data-testid=span-details]')).to.contain('injected failure');
    await shot(page, 'trace-2000-spans-bottom');
  });

  it('trace page of a small error trace: waterfall and decision side by side', async () => {
    await page.goto(`${admin}/ui/#/trace/${errorIds[0]}`);
    await page.waitForSelector('[data-testid=decision-panel]');
    expect(await page.getAttribute('[data-testid=waterfall]', 'data-rows')).to.equal('4');
    expect(await page.textContent('[data-testid=decision-policy]')).to.equal('errors');
    await page.click('text=step-1');
    await shot(page, 'trace');
  });

  it('a dropped trace id opens its "dropped because" panel', async () => {
    await page.goto(`${admin}/ui/#/trace/${droppedId}`);
    await page.waitForSelector('[data-testid=trace-missing]');
    expect(await page.textContent('[data-testid=missing-reason]')).to.contain(
      `trace ${droppedId} was dropped because no policy kept it`,
    );
    expect(await page.textContent('[data-testid=decision-outcome]')).to.equal('dropped');
    expect(await page.textContent('[data-testid=decision-sentence]')).to.match(
      /Dropped because no policy kept it: .*rest: trace-id hash .+ at /,
    );
    await shot(page, 'trace-dropped');
  });

  it('sampling page: policies, the service with its P95, and the decisions stream', async () => {
    await until('P95 of GET /items', async () => {
      const s = await getJson<{ processors: Array<{ latency: Array<{ service: string; count: number }> }> }>(
        `${admin}/v1/sampling`,
      );
      return s.processors[0]?.latency.find((l) => l.service === service && l.count >= 100);
    });
    await page.goto(`${admin}/ui/#/sampling`);
    await page.waitForSelector('[data-testid=latency-row]');
    const rows = await page.$$eval('[data-testid=latency-row]', (els) => els.map((e) => e.textContent ?? ''));
    const mine = rows.find((r) => r.includes(service) && r.includes('GET /items'));
    expect(mine, 'the service is listed').to.not.equal(undefined);
    expect(mine).to.match(/\d+(\.\d+)?ms/);
    expect(await page.textContent('[data-testid=policy-table]'))
      .to.contain('errors')
      .and.contain('slow')
      .and.contain('rest');
    await page.waitForSelector('[data-testid=decision-row]');
    await page.selectOption('select[name=outcome]', 'sampled');
    await page.waitForFunction(
      `[...document.querySelectorAll('[data-testid=decision-row]')].every((r) => r.textContent.includes('kept'))`,
    );
    await shot(page, 'sampling');
  });

  it('sampling page: the decisions stream is pushed; it polls when the stream is refused', async () => {
    await page.goto('about:blank'); // a fresh page: no filter left from the test before
    await page.goto(`${admin}/ui/#/sampling`);
    await page.waitForSelector('[data-testid=decision-row]');
    await page.waitForFunction(`document.querySelector('[data-testid=stream-via]').textContent.includes('live')`);
    // New decisions arrive on the open stream (the trickle), with no request to /v1/decisions.
    const polls: string[] = [];
    const onRequest = (r: { url(): string }) => {
      if (new URL(r.url()).pathname === '/v1/decisions') polls.push(r.url());
    };
    page.on('request', onRequest);
    const first = await page.textContent('[data-testid=decision-row]');
    await page.waitForFunction(
      `document.querySelector('[data-testid=decision-row]')?.textContent !== ${JSON.stringify(first)}`,
      undefined,
      { timeout: 20_000 },
    );
    page.off('request', onRequest);
    expect(polls, 'no polling while the stream is open').to.deep.equal([]);
    await page.locator('[data-testid=decision-stream]').scrollIntoViewIfNeeded();
    await shot(page, 'sampling-stream');
    // Every stream slot taken (the limit is 8, the page above holds one): a new page's stream is refused with a
    // 503 that says why, and the page polls instead.
    const held: AbortController[] = [];
    try {
      for (;;) {
        const ctl = new AbortController();
        const res = await fetch(`${admin}/v1/decisions/stream?backlog=0`, { signal: ctl.signal });
        if (res.status === 503) {
          expect(((await res.json()) as { error: string }).error).to.contain('decision streams are open already');
          break;
        }
        expect(res.status).to.equal(200);
        held.push(ctl);
        expect(held.length, 'a limit is reached').to.be.below(20);
      }
      const other = await browser!.context.newPage();
      other.on('pageerror', (err) => pageErrors.push(err.message));
      await other.goto(`${admin}/ui/#/sampling`);
      await other.waitForFunction(
        `document.querySelector('[data-testid=stream-via]')?.textContent.includes('polling')`,
        undefined,
        { timeout: 20_000 },
      );
      await other.waitForSelector('[data-testid=decision-row]');
      await other.locator('[data-testid=decision-stream]').scrollIntoViewIfNeeded();
      await shot(other, 'sampling-stream-polling');
      await other.close();
    } finally {
      held.forEach((c) => c.abort());
    }
    // A bad parameter is a 400 in words.
    const bad = await fetch(`${admin}/v1/decisions/stream?outcome=kept`);
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { error: string }).error).to.contain('outcome must be sampled or not_sampled');
  });

  it("sampling page: a degraded service's error boost with the time it ends", async () => {
    // The baseline comes from the healthy traffic so far (once a 10 s bucket closed); bursts of errors lift the
    // recent rate well above it.
    const burst = async () => {
      for (let i = 0; i < 80; i++)
        sendTrace(client!.tracer, { rootName: 'POST /pay', durationMs: 30, children: 1, errorChild: 0 });
      await client!.flush();
    };
    let sent = 0;
    await until(
      'the service degraded',
      async () => {
        if (Date.now() - sent > 10_000) {
          sent = Date.now();
          await burst();
        }
        const s = await getJson<{
          processors: Array<{
            services: Array<{ service: string; aboveThreshold: boolean; boostUntil: number | null }>;
          }>;
        }>(`${admin}/v1/sampling`);
        return s.processors[0]?.services.find(
          (e) => e.service === service && e.aboveThreshold && e.boostUntil !== null,
        );
      },
      60_000,
    );
    await page.goto(`${admin}/ui/#/sampling`);
    await page.waitForSelector('[data-testid=boost-until]');
    await page.waitForFunction(
      `[...document.querySelectorAll('tr')].some((r) => r.textContent.includes(${JSON.stringify(service)}) &&
        r.textContent.includes('active'))`,
      undefined,
      { timeout: 30_000 },
    );
    const cells = await page.$$eval('tr', (rows) =>
      rows.filter((r) => r.querySelector('[data-testid=boost-until]')).map((r) => r.textContent ?? ''),
    );
    const mine = cells.find((c) => c.includes(service));
    expect(mine, 'the service row').to.not.equal(undefined);
    expect(mine)
      .to.contain('active')
      .and.match(/\d\d:\d\d:\d\d/);
    await page.locator('[data-testid=boost-until]').first().scrollIntoViewIfNeeded();
    await shot(page, 'sampling-boost-until');
  });

  it('config page: the effective config without secrets', async () => {
    await page.goto(`${admin}/ui/#/config`);
    await page.waitForSelector('[data-testid=config-page]');
    const text = await page.textContent('[data-testid=config-page]');
    expect(text).to.contain('embedded.tsk').and.contain('tail_sampling').and.contain('jaeger_query');
    await shot(page, 'config');
  });

  it('bad input: a malformed trace id and an unknown trace are explained in words', async () => {
    await page.goto(`${admin}/ui/#/trace/not-a-trace-id`);
    await page.waitForSelector('[data-testid=error]');
    expect(await page.textContent('[data-testid=error]')).to.contain('is not a trace id');
    await shot(page, 'bad-trace-id');
    const unknown = 'ab'.repeat(16);
    await page.goto(`${admin}/ui/#/trace/${unknown}`);
    await page.waitForSelector('[data-testid=missing-reason]');
    expect(await page.textContent('[data-testid=missing-reason]')).to.contain(
      `no trace ${unknown} in Jaeger and no decision`,
    );
    await shot(page, 'unknown-trace');
    expect((await fetch(`${admin}/readyz`)).status, 'the pipeline keeps running').to.equal(200);
  });

  it('bad input: with Jaeger unreachable the traces page says so and the pipeline keeps running', async () => {
    const nothing = await freePort(); // handed out, never bound: connections to it are refused
    const down = await startEmbedded({ JAEGER_QUERY_URL: `http://127.0.0.1:${nothing}` });
    try {
      const p = await browser!.context.newPage();
      await p.goto(`${down.admin}/ui/#/traces?service=${service}`);
      await p.waitForSelector('[data-testid=error]');
      expect(await p.textContent('[data-testid=error]')).to.contain(
        `Jaeger query API at http://127.0.0.1:${nothing} is unreachable (ECONNREFUSED`,
      );
      await shot(p, 'jaeger-unreachable');
      await p.goto(`${down.admin}/ui/#/pipeline`);
      await p.waitForSelector('[data-testid=graph-node]');
      expect((await fetch(`${down.admin}/healthz`)).status).to.equal(200);
      await p.close();
    } finally {
      await down.collector.stop('SIGTERM');
    }
  });

  it('no page threw an uncaught error', () => {
    expect(pageErrors).to.deep.equal([]);
  });
});

describe('e2e: web console in headless Chromium (cluster tiers: Kafka, Redis, Jaeger)', function () {
  this.timeout(300_000);
  const run = runNames('console');
  let ingest: Tier | undefined;
  let sampler: Tier | undefined;
  let browser: TestBrowser | undefined;
  let client: SdkClient | undefined;
  let page: Page;
  let trickle: NodeJS.Timeout | undefined;
  const errorIds: string[] = [];
  let droppedId = '';
  const pageErrors: string[] = [];
  const ui = (t: Tier | undefined, hash: string) => `http://127.0.0.1:${t!.admin}/ui/#${hash}`;

  before(async () => {
    // The shared stack must be up already (this test never starts or stops it).
    for (const [svc, port] of [
      ['kafka', 9092],
      ['redis', 6379],
      ['jaeger', 16686],
    ] as const) {
      expect(await portOpen(port), `${svc} on 127.0.0.1:${port} (npm run stack:up)`).to.equal(true);
    }
    const env = {
      KEEP_PERCENT: '0',
      DECISION_WAIT: '2s',
      ROOT_SETTLE_DELAY: '500ms',
      TUSK_CONSOLE_SAMPLE_INTERVAL: '1s',
    };
    ingest = await startTier('ingest', CLUSTER, 'ingest', run, env);
    sampler = await startTier('sampler', CLUSTER, 'sample', run, env);
    client = createProtoClient(run.service, ingest.url);
    const tracer = client.tracer;
    for (let i = 0; i < 130; i++) {
      const id = sendTrace(tracer, { rootName: 'GET /items', durationMs: 10 + (i % 20), children: 2 });
      if (i === 0) droppedId = id;
    }
    for (let i = 0; i < 2; i++)
      errorIds.push(sendTrace(tracer, { rootName: 'POST /pay', durationMs: 40, children: 3, errorChild: 1 }));
    await client.flush();
    trickle = setInterval(() => {
      sendTrace(tracer, { rootName: 'GET /items', durationMs: 15, children: 1 });
      void client?.flush();
    }, 200);
    for (const id of errorIds)
      expect((await waitForTrace(id, 4, 120_000))?.spans.length, `trace ${id} in Jaeger`).to.equal(4);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });

  after(async () => {
    if (trickle) clearInterval(trickle);
    await browser?.close();
    await client?.shutdown();
    await stopAll([ingest, sampler]);
    await deleteTopics([run.topic]).catch(() => undefined);
    await deleteGroups([run.group]).catch(() => undefined);
    await deletePrefix(run.redisPrefix).catch(() => undefined);
  });

  it('ingest tier: cluster mode, OTLP accepted and Kafka exported at non-zero rates', async () => {
    await page.goto(ui(ingest, '/pipeline'));
    await page.waitForSelector('[data-testid=status] .dot');
    expect(await page.textContent('[data-testid=status]')).to.contain('cluster');
    await page.waitForFunction(
      `[...document.querySelectorAll('[data-rate=accepted]')].some((e) => !/ 0\\/s/.test(e.textContent))`,
      undefined,
      { timeout: 30_000 },
    );
    await page.waitForFunction(
      `[...document.querySelectorAll('[data-rate=exported]')].some((e) => !/ 0\\/s/.test(e.textContent))`,
      undefined,
      { timeout: 30_000 },
    );
    expect(await page.textContent('[data-testid=dependencies]')).to.contain('kafka (exporters.spans)');
    await shot(page, 'cluster-ingest-pipeline');
    await page.goto(ui(ingest, '/sampling'));
    await page.waitForSelector('text=No sampling processor runs in this process');
  });

  it('sampling tier: its replica, Kafka consumption and Redis on the pipeline page', async () => {
    await page.goto(ui(sampler, '/pipeline'));
    await page.waitForSelector('[data-testid=graph-node]');
    const replica = (await getJson<{ replica: string | null }>(`http://127.0.0.1:${sampler!.admin}/v1/status`)).replica;
    expect(replica, 'a sampler in cluster mode has a replica id').to.be.a('string');
    expect(await page.textContent('h2')).to.contain(`replica ${replica}`);
    await page.waitForFunction(
      `[...document.querySelectorAll('[data-rate=consumed]')].some((e) => !/ 0\\/s/.test(e.textContent))`,
      undefined,
      { timeout: 30_000 },
    );
    const deps = await page.textContent('[data-testid=dependencies]');
    expect(deps).to.contain('redis (processors.tail_sampling)').and.contain('kafka (receivers.spans_in)');
    await shot(page, 'cluster-sampler-pipeline');
  });

  it('pipeline page: the replica you are looking at and the others, with links and a stale mark', async () => {
    // A replica that stopped refreshing its record (written here, last seen 5 s ago): stale once its last refresh is
    // two periods (10 s) old, listed until the TTL (15 s).
    const redis = new Redis(REDIS_URL);
    const hung = {
      id: 'hung-replica',
      pipelines: ['sample'],
      adminUrl: 'http://10.9.8.7:13133',
      version: '0.0.1',
      hostname: 'gone',
      startedAt: Date.now() - 600_000,
      lastSeen: Date.now() - 5000,
    };
    await redis
      .multi()
      .set(`${run.redisPrefix}{replicas}:hung-replica`, JSON.stringify(hung), 'PX', 60_000)
      .sadd(`${run.redisPrefix}{replicas}`, 'hung-replica')
      .exec();
    redis.disconnect();
    const replica = (await getJson<{ replica: string }>(`http://127.0.0.1:${sampler!.admin}/v1/status`)).replica;
    await until('both tiers announced and the hung replica stale', async () => {
      const v = await getJson<{ replicas?: Array<{ id: string; pipelines: string[]; stale: boolean }> }>(
        `http://127.0.0.1:${sampler!.admin}/v1/replicas`,
      );
      const ok =
        v.replicas?.some((r) => r.pipelines.includes('ingest')) &&
        v.replicas?.some((r) => r.id === 'hung-replica' && r.stale);
      return ok ? v : undefined;
    });
    await page.goto(ui(sampler, '/pipeline'));
    await page.waitForSelector('[data-testid=replica-row] >> nth=2');
    expect(await page.textContent('[data-testid=replicas] h3')).to.contain(`you are looking at ${replica}`);
    const rows = await page.$$eval('[data-testid=replica-row]', (els) => els.map((e) => e.textContent ?? ''));
    expect(rows.find((r) => r.includes(replica))).to.contain('this one');
    const ingestRow = rows.find((r) => r.includes('ingest') && !r.includes('this one'));
    expect(ingestRow, 'the ingest replica is listed').to.contain(`127.0.0.1:${ingest!.admin}/ui/`);
    expect(rows.find((r) => r.includes('hung-replica'))).to.contain('stale');
    const link = await page.getAttribute(`a[href="http://127.0.0.1:${ingest!.admin}/ui/"]`, 'href');
    expect(link).to.equal(`http://127.0.0.1:${ingest!.admin}/ui/`);
    await shot(page, 'cluster-replicas');
  });

  it('sampling tier: an error trace with the keeping policy and replica; a dropped one with its panel', async () => {
    await page.goto(ui(sampler, `/trace/${errorIds[0]}`));
    await page.waitForSelector('[data-testid=waterfall]');
    expect(await page.getAttribute('[data-testid=waterfall]', 'data-rows')).to.equal('4');
    expect(await page.textContent('[data-testid=decision-policy]')).to.equal('errors');
    expect(await page.textContent('[data-testid=decision-sentence]')).to.contain('by replica');
    await shot(page, 'cluster-trace');
    await page.goto(ui(sampler, `/trace/${droppedId}`));
    await page.waitForSelector('[data-testid=trace-missing]');
    expect(await page.textContent('[data-testid=missing-reason]')).to.contain('was dropped because no policy kept it');
    await shot(page, 'cluster-trace-dropped');
  });

  it('bad input: a sampler whose Redis is unreachable says so on its pipeline page and keeps running', async () => {
    const nothing = await freePort(); // handed out, never bound: connections to it are refused
    const group = `${run.group}-noredis`;
    const lonely = await startTier('sampler-noredis', CLUSTER, 'sample', run, {
      KEEP_PERCENT: '0',
      TUSK_CONSOLE_SAMPLE_INTERVAL: '1s',
      TUSK_SAMPLER_GROUP: group,
      REDIS_URL: `redis://127.0.0.1:${nothing}`,
    });
    try {
      const p = await browser!.context.newPage();
      p.on('pageerror', (err) => pageErrors.push(err.message));
      await p.goto(ui(lonely, '/pipeline'));
      await p.waitForSelector('[data-testid=dependencies]');
      await p.waitForFunction(`document.querySelector('[data-testid=dependencies]').textContent.includes('DEGRADED')`);
      const row = await p.$eval('[data-testid=dependencies]', (el) => el.textContent ?? '');
      expect(row).to.contain('redis (processors.tail_sampling)').and.contain(`127.0.0.1:${nothing}`);
      expect(row).to.contain('deciding from local state');
      await p.waitForSelector('[data-testid=replicas] [role=alert]');
      expect(await p.textContent('[data-testid=replicas]')).to.contain(
        'The list may be out of date: redis unreachable',
      );
      await shot(p, 'cluster-redis-unreachable');
      expect((await fetch(`http://127.0.0.1:${lonely.admin}/healthz`)).status).to.equal(200);
      await p.close();
    } finally {
      await stopAll([lonely]);
      await deleteGroups([group]).catch(() => undefined);
    }
  });

  it('sampling tier: the service with its cluster-wide P95 from Redis', async () => {
    await until(
      'P95 of GET /items from Redis',
      async () => {
        const s = await getJson<{
          processors: Array<{ state: string; latency: Array<{ service: string; count: number }> }>;
        }>(`http://127.0.0.1:${sampler!.admin}/v1/sampling`);
        return s.processors[0]?.latency.find((l) => l.service === run.service && l.count >= 100);
      },
      60_000,
    );
    await page.goto(ui(sampler, '/sampling'));
    await page.waitForSelector('[data-testid=latency-row]');
    expect(await page.textContent('[data-testid=sampler]')).to.contain('state: redis');
    const rows = await page.$$eval('[data-testid=latency-row]', (els) => els.map((e) => e.textContent ?? ''));
    expect(rows.find((r) => r.includes(run.service) && r.includes('GET /items'))).to.match(/\d+(\.\d+)?ms/);
    await shot(page, 'cluster-sampling');
  });

  it('no page threw an uncaught error', () => {
    expect(pageErrors).to.deep.equal([]);
  });
});
