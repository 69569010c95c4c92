// Converts the Collector's receivers (otlp, kafka), processors (tail_sampling, batch, memory_limiter) and
// exporters (otlp, otlphttp, kafka, debug/logging) to our components. Each converter returns our type and
// settings, or undefined (reported as dropped) when the component has no counterpart.

import { convertPolicies } from './convert-policies';
import type { Converter, YamlPath } from './convert-model';

type Obj = Record<string, unknown>;

/** Converted is one of our components: its type and its settings. */
export interface Converted {
  readonly type: string;
  readonly settings: Obj;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});

/** rest reports every key of `from` not in `handled` as dropped. */
function rest(from: Obj, handled: readonly string[], path: YamlPath, c: Converter, what: string): void {
  for (const k of Object.keys(from))
    if (!handled.includes(k)) c.drop([...path, k], `${what}.${k} has no counterpart here`);
}

function mib(v: unknown): string | undefined {
  return typeof v === 'number' ? `${v}MiB` : undefined;
}

function serverTls(tls: unknown, path: YamlPath, c: Converter): Obj | undefined {
  if (!isObj(tls)) return undefined;
  rest(tls, ['cert_file', 'key_file', 'client_ca_file'], path, c, 'tls');
  const out: Obj = { cert_file: tls.cert_file, key_file: tls.key_file };
  if (tls.client_ca_file !== undefined) out.client_ca_file = tls.client_ca_file;
  return out;
}

/** convertReceiver converts one receiver; `type` is the part of its id before "/". */
export function convertReceiver(type: string, raw: unknown, path: YamlPath, c: Converter): Converted | undefined {
  const cfg = obj(raw);
  if (type === 'otlp') {
    const protocols = obj(cfg.protocols);
    rest(cfg, ['protocols'], path, c, 'otlp');
    rest(protocols, ['grpc', 'http'], [...path, 'protocols'], c, 'protocols');
    const settings: Obj = {};
    for (const proto of ['grpc', 'http'] as const) {
      const p = [...path, 'protocols', proto];
      if (!(proto in protocols)) {
        settings[proto] = { endpoint: '' }; // not listed: off, as in the Collector
        continue;
      }
      const s = obj(protocols[proto]);
      const out: Obj = { endpoint: s.endpoint ?? (proto === 'grpc' ? 'localhost:4317' : 'localhost:4318') };
      const tls = serverTls(s.tls, [...p, 'tls'], c);
      if (tls) out.tls = tls;
      if (proto === 'grpc' && s.max_recv_msg_size_mib !== undefined)
        out.max_recv_msg_size = mib(s.max_recv_msg_size_mib);
      if (proto === 'http' && s.max_request_body_size !== undefined)
        out.max_request_body_size = s.max_request_body_size;
      if (proto === 'http' && isObj(s.cors)) {
        out.cors_allowed_origins = s.cors.allowed_origins ?? [];
        out.cors_allowed_headers = s.cors.allowed_headers ?? [];
      }
      const known =
        proto === 'grpc'
          ? ['endpoint', 'tls', 'max_recv_msg_size_mib']
          : ['endpoint', 'tls', 'max_request_body_size', 'cors'];
      rest(s, known, p, c, proto);
      settings[proto] = out;
    }
    return { type: 'otlp', settings };
  }
  if (type === 'kafka') {
    const settings: Obj = kafkaClient(cfg, path, c);
    const traces = obj(cfg.traces);
    const topic = traces.topic ?? cfg.topic;
    if (topic !== undefined) settings.topic = topic;
    if (cfg.group_id !== undefined) settings.group = cfg.group_id;
    if (cfg.initial_offset !== undefined) settings.start_from = cfg.initial_offset;
    encoding(traces.encoding ?? cfg.encoding, [...path, cfg.traces === undefined ? 'encoding' : 'traces'], c);
    if (cfg.traces !== undefined) rest(traces, ['topic', 'encoding'], [...path, 'traces'], c, 'traces');
    rest(
      cfg,
      [
        'brokers',
        'client_id',
        'auth',
        'topic',
        'traces',
        'group_id',
        'initial_offset',
        'encoding',
        'protocol_version',
        'logs',
        'metrics',
      ],
      path,
      c,
      'kafka',
    );
    if (cfg.protocol_version !== undefined)
      c.note([...path, 'protocol_version'], 'the client negotiates the protocol version; left out');
    return { type: 'kafka', settings };
  }
  return undefined;
}

function encoding(v: unknown, path: YamlPath, c: Converter): void {
  if (v !== undefined && v !== 'otlp_proto')
    c.drop(path, `encoding ${String(v)}: only otlp_proto (OTLP protobuf) is read and written here`);
}

function kafkaClient(cfg: Obj, path: YamlPath, c: Converter): Obj {
  const out: Obj = {};
  if (cfg.brokers !== undefined) out.brokers = cfg.brokers;
  if (cfg.client_id !== undefined) out.client_id = cfg.client_id;
  const auth = obj(cfg.auth);
  if (isObj(auth.sasl)) {
    const mech = String(auth.sasl.mechanism ?? 'PLAIN').toLowerCase();
    out.sasl = { mechanism: mech, username: auth.sasl.username, password: auth.sasl.password };
    rest(auth.sasl, ['mechanism', 'username', 'password'], [...path, 'auth', 'sasl'], c, 'sasl');
  }
  const tls = isObj(auth.tls) ? auth.tls : isObj(cfg.tls) ? cfg.tls : undefined;
  if (tls !== undefined) {
    const t: Obj = { enabled: tls.insecure !== true };
    if (tls.ca_file !== undefined) t.ca_file = tls.ca_file;
    if (tls.cert_file !== undefined) t.cert_file = tls.cert_file;
    if (tls.key_file !== undefined) t.key_file = tls.key_file;
    out.tls = t;
  }
  if (isObj(cfg.auth)) rest(auth, ['sasl', 'tls'], [...path, 'auth'], c, 'auth');
  return out;
}

function retryAndQueue(cfg: Obj, out: Obj, path: YamlPath, c: Converter): void {
  if (isObj(cfg.retry_on_failure)) {
    const r = cfg.retry_on_failure;
    const keys = [
      'enabled',
      'initial_interval',
      'randomization_factor',
      'multiplier',
      'max_interval',
      'max_elapsed_time',
    ];
    out.retry_on_failure = Object.fromEntries(keys.filter((k) => r[k] !== undefined).map((k) => [k, r[k]]));
    rest(r, keys, [...path, 'retry_on_failure'], c, 'retry_on_failure');
  }
  if (isObj(cfg.sending_queue)) {
    const q = cfg.sending_queue;
    const keys = ['enabled', 'num_consumers', 'queue_size'];
    out.sending_queue = Object.fromEntries(keys.filter((k) => q[k] !== undefined).map((k) => [k, q[k]]));
    rest(q, keys, [...path, 'sending_queue'], c, 'sending_queue');
  }
}

/** convertExporter converts one exporter; `type` is the part of its id before "/". */
export function convertExporter(type: string, raw: unknown, path: YamlPath, c: Converter): Converted | undefined {
  const cfg = obj(raw);
  if (type === 'otlp' || type === 'otlphttp') {
    const http = type === 'otlphttp';
    const settings: Obj = { protocol: http ? 'http' : 'grpc' };
    const tls = obj(cfg.tls);
    let endpoint = cfg.endpoint;
    if (!http && typeof endpoint === 'string' && !/^https?:\/\//.test(endpoint)) {
      // The Collector's gRPC client uses TLS unless tls.insecure is true.
      endpoint = `${tls.insecure === true ? 'http' : 'https'}://${endpoint}`;
    }
    if (endpoint !== undefined) settings.endpoint = endpoint;
    if (http && cfg.traces_endpoint !== undefined) settings.traces_endpoint = cfg.traces_endpoint;
    if (http && cfg.logs_endpoint !== undefined) settings.logs_endpoint = cfg.logs_endpoint;
    if (cfg.compression !== undefined) {
      if (cfg.compression === 'gzip' || cfg.compression === 'none') settings.compression = cfg.compression;
      else c.drop([...path, 'compression'], `compression ${String(cfg.compression)}: gzip or none here`);
    }
    if (cfg.headers !== undefined) settings.headers = cfg.headers;
    if (cfg.timeout !== undefined) settings.timeout = cfg.timeout;
    if (cfg.tls !== undefined) {
      const t: Obj = {};
      for (const k of ['ca_file', 'cert_file', 'key_file', 'insecure_skip_verify'])
        if (tls[k] !== undefined) t[k] = tls[k];
      if (Object.keys(t).length > 0) settings.tls = t;
      rest(tls, ['insecure', 'ca_file', 'cert_file', 'key_file', 'insecure_skip_verify'], [...path, 'tls'], c, 'tls');
    }
    retryAndQueue(cfg, settings, path, c);
    const known = [
      'endpoint',
      'traces_endpoint',
      'logs_endpoint',
      'compression',
      'headers',
      'timeout',
      'tls',
      'retry_on_failure',
      'sending_queue',
    ];
    rest(cfg, known, path, c, type);
    return { type: 'otlp', settings };
  }
  if (type === 'kafka') {
    const settings = kafkaClient(cfg, path, c);
    const traces = obj(cfg.traces);
    const topic = traces.topic ?? cfg.topic;
    if (topic !== undefined) settings.topic = topic;
    encoding(traces.encoding ?? cfg.encoding, [...path, cfg.traces === undefined ? 'encoding' : 'traces'], c);
    const producer = obj(cfg.producer);
    if (producer.compression !== undefined) settings.compression = producer.compression;
    if (producer.max_message_bytes !== undefined) settings.max_message_bytes = producer.max_message_bytes;
    if (cfg.producer !== undefined)
      rest(producer, ['compression', 'max_message_bytes'], [...path, 'producer'], c, 'producer');
    if (cfg.traces !== undefined) rest(traces, ['topic', 'encoding'], [...path, 'traces'], c, 'traces');
    if (cfg.protocol_version !== undefined)
      c.note([...path, 'protocol_version'], 'the client negotiates the protocol version; left out');
    if (cfg.partition_traces_by_id === true)
      c.note([...path, 'partition_traces_by_id'], 'messages are always keyed by trace id here');
    const known = [
      'brokers',
      'client_id',
      'auth',
      'topic',
      'traces',
      'encoding',
      'producer',
      'protocol_version',
      'partition_traces_by_id',
      'logs',
      'metrics',
    ];
    rest(cfg, known, path, c, 'kafka');
    return { type: 'kafka', settings };
  }
  if (type === 'debug' || type === 'logging') {
    const level = cfg.verbosity ?? cfg.loglevel;
    const settings: Obj = {};
    if (level === 'detailed' || level === 'debug') settings.verbosity = 'detailed';
    else {
      settings.verbosity = 'basic';
      if (level === 'normal')
        c.note([...path, 'verbosity'], 'verbosity normal: written as basic (basic or detailed here)');
    }
    for (const k of ['sampling_initial', 'sampling_thereafter', 'use_internal_logger']) {
      if (cfg[k] !== undefined) c.note([...path, k], `${k} left out (every span is printed)`);
    }
    rest(
      cfg,
      ['verbosity', 'loglevel', 'sampling_initial', 'sampling_thereafter', 'use_internal_logger'],
      path,
      c,
      type,
    );
    return { type: 'debug', settings };
  }
  return undefined;
}

/** ProcessorResult is a converted processor, or `merge` when its settings go into tail_sampling (or nowhere). */
export type ProcessorResult = Converted | { readonly merge: Obj } | undefined;

/** convertProcessor converts one processor; `type` is the part of its id before "/". */
export function convertProcessor(type: string, raw: unknown, path: YamlPath, c: Converter): ProcessorResult {
  const cfg = obj(raw);
  if (type === 'tail_sampling') {
    const settings: Obj = {};
    for (const k of ['decision_wait', 'num_traces', 'sample_on_first_match', 'drop_pending_traces_on_shutdown']) {
      if (cfg[k] !== undefined) settings[k] = cfg[k];
    }
    if (cfg.expected_new_traces_per_sec !== undefined) {
      c.note([...path, 'expected_new_traces_per_sec'], 'a sizing hint with no use here; left out');
    }
    if (isObj(cfg.decision_cache)) {
      const d = cfg.decision_cache;
      const size = Math.max(Number(d.sampled_cache_size ?? 0), Number(d.non_sampled_cache_size ?? 0));
      if (size > 0) settings.decision_cache_size = size;
      c.note(
        [...path, 'decision_cache'],
        'one store of recent decisions here (decision_cache_size, the larger of the two)',
      );
    }
    settings.policies = convertPolicies(cfg.policies, [...path, 'policies'], c);
    const known = [
      'decision_wait',
      'num_traces',
      'sample_on_first_match',
      'drop_pending_traces_on_shutdown',
      'expected_new_traces_per_sec',
      'decision_cache',
      'policies',
    ];
    rest(cfg, known, path, c, 'tail_sampling');
    return { type: 'tail_sampling', settings };
  }
  if (type === 'batch') {
    c.note(
      path,
      'batch: batching is built in here (tail_sampling send_batch_max_*, exporters max_request_bytes); removed',
    );
    return { merge: {} };
  }
  if (type === 'memory_limiter') {
    if (cfg.limit_mib === undefined) {
      c.drop(path, 'memory_limiter without limit_mib (limit_percentage) has no counterpart here');
      return { merge: {} };
    }
    const mibs = Number(cfg.limit_mib) - Number(cfg.spike_limit_mib ?? Number(cfg.limit_mib) * 0.2);
    c.note(
      path,
      `memory_limiter: tail_sampling max_buffered_bytes ${Math.floor(mibs)}MiB bounds the buffer instead ` +
        '(receivers bound their in-flight bytes)',
    );
    return { merge: { max_buffered_bytes: `${Math.floor(mibs)}MiB` } };
  }
  return undefined;
}
