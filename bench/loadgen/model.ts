// The synthetic workload of the benchmarks: a small shop of services whose traces are trees of 1-50
// spans, 5% with an error span, 10% slower than the latency threshold, in two span profiles ("small",
// about 260 encoded bytes per span like a bare SDK span; "prod", about 1.7 KB per span like a span with
// production semantic conventions, k8s resource attributes and events). Everything derives from a seed.

import type { OtlpKeyValue, OtlpResourceSpans, OtlpSpan } from '../../pipeline/sdk/otlp';
import type { Rng } from './random';

export type Profile = 'small' | 'prod';

/** Workload knobs; the defaults are the benchmark's workload (bench/README.md). */
export interface ModelOptions {
  profile: Profile;
  /** Fraction of traces with one ERROR span. */
  errorRate: number;
  /** Fraction of traces slower than `slowThresholdMs` (root and trace duration). */
  slowRate: number;
  /** The latency policy's threshold; fast traces stay below 90% of it, slow ones are 1.2x-4x it. */
  slowThresholdMs: number;
  /** Largest trace. Sizes are skewed to small traces: mean about 12 spans. */
  maxSpansPerTrace: number;
}

export const DEFAULT_MODEL: ModelOptions = {
  profile: 'small',
  errorRate: 0.05,
  slowRate: 0.1,
  slowThresholdMs: 1000,
  maxSpansPerTrace: 50,
};

interface ServiceDef {
  name: string;
  ops: string[];
  db?: string;
  lang: 'java' | 'go' | 'nodejs' | 'python';
}

const SERVICES: ServiceDef[] = [
  {
    name: 'frontend',
    ops: ['GET /', 'GET /product/{id}', 'POST /cart', 'GET /checkout', 'POST /checkout/submit', 'GET /api/search'],
    lang: 'nodejs',
  },
  {
    name: 'cart',
    ops: ['CartService/GetCart', 'CartService/AddItem', 'CartService/EmptyCart'],
    db: 'redis',
    lang: 'go',
  },
  { name: 'checkout', ops: ['CheckoutService/PlaceOrder', 'CheckoutService/Validate'], db: 'postgresql', lang: 'java' },
  { name: 'payment', ops: ['PaymentService/Charge', 'PaymentService/Refund'], db: 'postgresql', lang: 'java' },
  {
    name: 'catalog',
    ops: ['CatalogService/GetProduct', 'CatalogService/ListProducts', 'CatalogService/Search'],
    db: 'postgresql',
    lang: 'go',
  },
  { name: 'inventory', ops: ['InventoryService/Reserve', 'InventoryService/Check'], db: 'postgresql', lang: 'python' },
  { name: 'shipping', ops: ['ShippingService/GetQuote', 'ShippingService/ShipOrder'], lang: 'go' },
  { name: 'auth', ops: ['AuthService/Verify', 'AuthService/Refresh'], db: 'redis', lang: 'java' },
  { name: 'recommendation', ops: ['RecommendationService/List'], lang: 'python' },
];

const KIND_INTERNAL = 1;
const KIND_SERVER = 2;
const KIND_CLIENT = 3;

/** GeneratedTrace is one trace of the model: its spans by service, and what a tail sampler should see. */
export interface GeneratedTrace {
  traceId: string;
  spans: Array<{ service: number; span: OtlpSpan }>;
  error: boolean;
  slow: boolean;
}

const s = (key: string, value: string): OtlpKeyValue => ({ key, value: { type: 'string', value } });
const i = (key: string, value: number): OtlpKeyValue => ({ key, value: { type: 'int', value: BigInt(value) } });
const b = (key: string, value: boolean): OtlpKeyValue => ({ key, value: { type: 'bool', value } });
const d = (key: string, value: number): OtlpKeyValue => ({ key, value: { type: 'double', value } });

/** Words for the long strings of the prod profile (SQL, URLs, user agents). */
const WORDS = [
  'order',
  'item',
  'customer',
  'price',
  'quantity',
  'status',
  'created_at',
  'updated_at',
  'tenant',
  'region',
  'sku',
  'warehouse',
  'currency',
  'discount',
  'shipment',
];

function sql(rng: Rng, table: string): string {
  const cols = Array.from({ length: rng.int(6, 12) }, () => `${table}.${rng.pick(WORDS)}`);
  return (
    `SELECT ${cols.join(', ')} FROM ${table} JOIN ${rng.pick(WORDS)}s ON ${table}.${rng.pick(WORDS)}_id = ${rng.pick(WORDS)}s.id ` +
    `WHERE ${table}.tenant_id = $1 AND ${table}.${rng.pick(WORDS)} IN ($2, $3, $4) AND ${table}.created_at > $5 ORDER BY ${table}.updated_at DESC LIMIT ${rng.int(10, 200)}`
  );
}

/** resourceAttributes of a service; the prod profile carries what k8s + SDK detectors add in production. */
export function resourceAttributes(svc: ServiceDef, idx: number, profile: Profile, rng: Rng): OtlpKeyValue[] {
  const base = [
    s('service.name', svc.name),
    s('service.version', `1.${idx}.${rng.int(0, 9)}`),
    s('telemetry.sdk.language', svc.lang),
    s('telemetry.sdk.name', 'opentelemetry'),
    s('telemetry.sdk.version', '1.30.0'),
  ];
  if (profile === 'small') return [...base, s('host.name', `node-${idx}`)];
  const pod = `${svc.name}-${rng.hex(5)}-${rng.hex(3)}`;
  return [
    ...base,
    s('service.namespace', 'shop'),
    s('service.instance.id', rng.hex(16)),
    s('deployment.environment', 'production'),
    s('k8s.cluster.name', 'prod-eu-west-1'),
    s('k8s.namespace.name', 'shop'),
    s('k8s.pod.name', pod),
    s('k8s.pod.uid', `${rng.hex(4)}-${rng.hex(2)}-${rng.hex(2)}-${rng.hex(2)}-${rng.hex(6)}`),
    s('k8s.deployment.name', svc.name),
    s('k8s.node.name', `ip-10-0-${rng.int(0, 255)}-${rng.int(0, 255)}.eu-west-1.compute.internal`),
    s('container.id', rng.hex(32)),
    s('container.image.name', `registry.example.com/shop/${svc.name}`),
    s('container.image.tag', `v1.${idx}.${rng.int(0, 40)}`),
    s('cloud.provider', 'aws'),
    s('cloud.region', 'eu-west-1'),
    s('cloud.availability_zone', `eu-west-1${rng.pick(['a', 'b', 'c'])}`),
    s('host.name', pod),
    s('host.arch', 'amd64'),
    s('os.type', 'linux'),
    s('process.runtime.name', svc.lang),
    s('process.pid', String(rng.int(1, 99999))),
  ];
}

function spanAttributes(
  rng: Rng,
  svc: ServiceDef,
  kind: number,
  name: string,
  isDb: boolean,
  status: number,
  profile: Profile,
): OtlpKeyValue[] {
  const a: OtlpKeyValue[] = [];
  if (isDb) {
    a.push(s('db.system', svc.db!), s('db.operation', svc.db === 'redis' ? 'GET' : 'SELECT'));
    if (profile === 'prod') {
      a.push(
        s('db.name', 'shop'),
        s('db.user', `${svc.name}_rw`),
        s('net.peer.name', `${svc.db}.shop.svc.cluster.local`),
        i('net.peer.port', svc.db === 'redis' ? 6379 : 5432),
      );
      a.push(
        s(
          'db.statement',
          svc.db === 'redis' ? `GET ${svc.name}:${rng.pick(WORDS)}:${rng.hex(12)}` : sql(rng, rng.pick(WORDS)),
        ),
      );
      a.push(
        s('code.function', `${svc.name}.repository.${rng.pick(WORDS)}Repository.find`),
        s(
          'code.filepath',
          `src/main/${svc.lang}/com/example/shop/${svc.name}/repository/${rng.pick(WORDS)}.${svc.lang}`,
        ),
        i('code.lineno', rng.int(10, 900)),
        s('thread.name', `pool-${rng.int(1, 8)}-thread-${rng.int(1, 64)}`),
      );
    }
    return a;
  }
  if (svc.name === 'frontend' || name.startsWith('GET') || name.startsWith('POST')) {
    const route = name.split(' ')[1] ?? '/';
    a.push(
      s('http.method', name.split(' ')[0] || 'GET'),
      s('http.route', route),
      i('http.status_code', status === 2 ? 500 : 200),
    );
    if (profile === 'prod') {
      const path = route.replace('{id}', String(rng.int(1000, 99999)));
      a.push(
        s(
          'http.url',
          `https://shop.example.com${path}?session=${rng.hex(16)}&ref=${rng.pick(WORDS)}&utm_source=${rng.pick(WORDS)}&utm_campaign=${rng.pick(WORDS)}-${rng.int(1, 99)}`,
        ),
        s('http.scheme', 'https'),
        s('http.host', 'shop.example.com'),
        s('http.flavor', '1.1'),
        s('http.client_ip', `10.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(0, 255)}`),
        s(
          'http.user_agent',
          'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
        ),
        i('http.request_content_length', rng.int(0, 4096)),
        i('http.response_content_length', rng.int(200, 65536)),
        s('user.id', `u-${rng.hex(8)}`),
        s('tenant.id', `t-${rng.int(1, 50)}`),
        s('session.id', rng.hex(16)),
        s('request.id', rng.hex(16)),
        s(
          'feature_flags',
          `checkout_v2=${rng.chance(0.5)},new_search=${rng.chance(0.3)},recommendations=${rng.chance(0.8)}`,
        ),
        s('net.host.name', 'shop.example.com'),
        i('net.host.port', 443),
        s('thread.name', `http-nio-8080-exec-${rng.int(1, 200)}`),
      );
    }
    return a;
  }
  a.push(
    s('rpc.system', 'grpc'),
    s('rpc.service', name.split('/')[0]),
    s('rpc.method', name.split('/')[1] ?? name),
    i('rpc.grpc.status_code', status === 2 ? 13 : 0),
  );
  if (kind === KIND_SERVER) a.push(s('net.peer.name', `${rng.pick(SERVICES).name}.shop.svc.cluster.local`));
  if (profile === 'prod') {
    a.push(
      s('net.peer.ip', `10.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(0, 255)}`),
      i('net.peer.port', rng.int(30000, 60000)),
      s('net.transport', 'ip_tcp'),
      s('user.id', `u-${rng.hex(8)}`),
      s('tenant.id', `t-${rng.int(1, 50)}`),
      s('request.id', rng.hex(16)),
      s('app.order.id', rng.hex(12)),
      d('app.cart.total', Math.round(rng.next() * 100000) / 100),
      i('app.cart.items', rng.int(1, 30)),
      s('app.currency', rng.pick(['EUR', 'USD', 'GBP'])),
      b('app.loyalty.member', rng.chance(0.4)),
      s('code.function', `${name.replace('/', '.')}`),
      s('code.namespace', `com.example.shop.${svc.name}`),
      s('code.filepath', `src/main/${svc.lang}/com/example/shop/${svc.name}/${rng.pick(WORDS)}Handler.${svc.lang}`),
      i('code.lineno', rng.int(10, 900)),
      s('thread.name', `grpc-default-executor-${rng.int(0, 64)}`),
      s('messaging.destination', `${svc.name}.events.${rng.pick(WORDS)}`),
    );
  }
  return a;
}

/** commonAttributes are on every span: thread info (small); request context and baggage (prod). */
function commonAttributes(rng: Rng, svc: ServiceDef, profile: Profile): OtlpKeyValue[] {
  const a = [i('thread.id', rng.int(1, 400)), s('component', svc.lang === 'java' ? 'grpc-java' : svc.lang)];
  if (profile === 'small') return a;
  a.push(
    s('app.build.commit', rng.hex(20)),
    s('app.deployment.id', `deploy-${rng.hex(6)}`),
    s(
      'http.request.header.x_forwarded_for',
      `203.0.113.${rng.int(1, 254)}, 10.0.${rng.int(0, 255)}.${rng.int(1, 254)}`,
    ),
    s(
      'baggage',
      `tenant=t-${rng.int(1, 50)},plan=${rng.pick(['free', 'pro', 'enterprise'])},experiment=${rng.pick(WORDS)}-${rng.int(1, 9)},region=eu-west-1,session=${rng.hex(16)},client=${rng.pick(['web', 'ios', 'android'])}-${rng.int(100, 999)}`,
    ),
    s(
      'app.request.params',
      `{"${rng.pick(WORDS)}":"${rng.hex(8)}","${rng.pick(WORDS)}":${rng.int(1, 999)},"${rng.pick(WORDS)}":"${rng.pick(WORDS)}-${rng.pick(WORDS)}","filters":["${rng.pick(WORDS)}","${rng.pick(WORDS)}","${rng.pick(WORDS)}"],"page":${rng.int(1, 20)},"page_size":${rng.pick([20, 50, 100])},"sort":"${rng.pick(WORDS)}:desc","locale":"en-GB","currency":"EUR","trace_debug":false}`,
    ),
    s(
      'app.user.segment',
      `${rng.pick(['new', 'returning', 'vip'])}/${rng.pick(['mobile', 'desktop'])}/${rng.pick(WORDS)}`,
    ),
    d('app.sampling.priority', rng.next()),
    s(
      'app.log.last_message',
      `${rng.pick(WORDS)} ${rng.pick(WORDS)} handled in ${rng.int(1, 900)}ms for tenant t-${rng.int(1, 50)} (cache ${rng.pick(['hit', 'miss'])}, retries ${rng.int(0, 3)}, shard ${rng.int(0, 63)}, pool ${rng.pick(WORDS)}-${rng.int(1, 8)})`,
    ),
  );
  return a;
}

/** traceSize draws a span count in [1, max], skewed to small traces (mean about 12 for max 50). */
function traceSize(rng: Rng, max: number): number {
  return 1 + Math.floor((max - 1) * Math.pow(rng.next(), 3.5) + 0.5 * rng.next());
}

/**
 * generateTrace builds one trace: a frontend root span and a tree under it, with children nested in
 * their parent's time window. `nowNs` is the root's end.
 */
export function generateTrace(rng: Rng, opts: ModelOptions, nowNs: bigint): GeneratedTrace {
  const n = Math.min(opts.maxSpansPerTrace, Math.max(1, traceSize(rng, opts.maxSpansPerTrace)));
  const error = rng.chance(opts.errorRate);
  const slow = rng.chance(opts.slowRate);
  const thresholdUs = opts.slowThresholdMs * 1000;
  const rootUs = slow
    ? Math.round(thresholdUs * (1.2 + 2.8 * rng.next()))
    : Math.round(2000 + (thresholdUs * 0.9 - 2000) * Math.pow(rng.next(), 3));
  const traceId = rng.hex(16);
  const errorAt = error ? rng.int(0, n - 1) : -1;
  interface Node {
    service: number;
    spanId: string;
    startUs: number;
    durUs: number;
  }
  const nodes: Node[] = [];
  const out: GeneratedTrace['spans'] = [];
  const rootStartUs = 0;
  for (let k = 0; k < n; k++) {
    let service = 0;
    let parent: Node | undefined;
    let startUs = rootStartUs;
    let durUs = rootUs;
    let kind = KIND_SERVER;
    let isDb = false;
    let name = rng.pick(SERVICES[0].ops);
    if (k > 0) {
      // Prefer recent spans as parents: trees a few levels deep, like real call chains.
      parent = nodes[Math.max(0, nodes.length - 1 - Math.floor(Math.pow(rng.next(), 2) * nodes.length))];
      const ps = SERVICES[parent.service];
      if (ps.db && rng.chance(0.35)) {
        service = parent.service;
        kind = KIND_CLIENT;
        isDb = true;
        name = `${ps.db === 'redis' ? 'GET' : 'SELECT'} ${ps.db === 'redis' ? 'cache' : rng.pick(WORDS) + 's'}`;
      } else if (rng.chance(0.25)) {
        service = parent.service;
        kind = KIND_INTERNAL;
        name = `${rng.pick(WORDS)}.${rng.pick(['load', 'compute', 'render', 'validate', 'serialize'])}`;
      } else {
        service = rng.int(1, SERVICES.length - 1);
        kind = KIND_SERVER;
        name = rng.pick(SERVICES[service].ops);
      }
      const room = Math.max(1, parent.durUs);
      const off = Math.floor(rng.next() * room * 0.5);
      startUs = parent.startUs + off;
      durUs = Math.max(1, Math.floor((room - off) * (0.1 + 0.8 * rng.next())));
    }
    const status = k === errorAt ? 2 : 0;
    const node: Node = { service, spanId: rng.hex(8), startUs, durUs };
    nodes.push(node);
    const startNs = nowNs - BigInt(rootUs - startUs) * 1000n;
    const events: OtlpSpan['events'] = [];
    if (status === 2) {
      events.push({
        timeUnixNano: startNs + BigInt(durUs) * 500n,
        name: 'exception',
        droppedAttributesCount: 0,
        attributes: [
          s('exception.type', 'io.grpc.StatusRuntimeException'),
          s(
            'exception.message',
            `UNAVAILABLE: upstream ${SERVICES[rng.int(1, SERVICES.length - 1)].name} connect error`,
          ),
          ...(opts.profile === 'prod'
            ? [
                s(
                  'exception.stacktrace',
                  Array.from(
                    { length: 8 },
                    (_, f) =>
                      `\tat com.example.shop.${SERVICES[service].name}.${rng.pick(WORDS)}Handler.handle(${rng.pick(WORDS)}Handler.java:${f * 37 + 12})`,
                  ).join('\n'),
                ),
              ]
            : []),
        ],
      });
    } else if (opts.profile === 'prod' && rng.chance(0.5)) {
      events.push({
        timeUnixNano: startNs + BigInt(durUs) * 300n,
        name: rng.pick(['cache.miss', 'retry', 'message.sent', 'validation.done']),
        droppedAttributesCount: 0,
        attributes: [
          s('event.detail', `${rng.pick(WORDS)} ${rng.pick(WORDS)} ${rng.hex(6)}`),
          i('attempt', rng.int(1, 3)),
        ],
      });
    }
    out.push({
      service,
      span: {
        traceId,
        spanId: node.spanId,
        parentSpanId: parent ? parent.spanId : '',
        traceState: '',
        flags: 0x101,
        name,
        kind,
        startTimeUnixNano: startNs,
        endTimeUnixNano: startNs + BigInt(durUs) * 1000n,
        attributes: [
          ...spanAttributes(rng, SERVICES[service], kind, name, isDb, status, opts.profile),
          ...commonAttributes(rng, SERVICES[service], opts.profile),
        ],
        droppedAttributesCount: 0,
        events,
        droppedEventsCount: 0,
        links: [],
        droppedLinksCount: 0,
        status: status === 2 ? { code: 2, message: 'upstream connect error' } : { code: 0, message: '' },
      },
    });
  }
  return { traceId, spans: out, error, slow };
}

/** The services' resources of one request template (one resource per service, as an agent forwards them). */
export function buildRequest(traces: readonly GeneratedTrace[], opts: ModelOptions, rng: Rng): OtlpResourceSpans[] {
  const byService = new Map<number, OtlpSpan[]>();
  for (const t of traces)
    for (const { service, span } of t.spans) {
      let list = byService.get(service);
      if (!list) byService.set(service, (list = []));
      list.push(span);
    }
  return [...byService.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([svc, spans]) => ({
      resource: {
        attributes: resourceAttributes(SERVICES[svc], svc, opts.profile, rng),
        droppedAttributesCount: 0,
        entityRefs: [],
      },
      schemaUrl: 'https://opentelemetry.io/schemas/1.24.0',
      scopeSpans: [
        {
          scope: {
            name: `@example/${SERVICES[svc].name}-instrumentation`,
            version: '0.52.0',
            attributes: [],
            droppedAttributesCount: 0,
          },
          schemaUrl: '',
          spans,
        },
      ],
    }));
}

export const SERVICE_COUNT = SERVICES.length;
