// The conformance inputs T1-T15 of the TuskLang dialect specification with their expected output, verbatim.
// Used by conformance.test.ts (exact results) and fuzz.test.ts (as mutation seeds).

const lines = (...l: string[]): string => l.join('\n') + '\n';

/** The environment T8 assumes: TSK_T_HOME set, TSK_T_EMPTY set but empty, the others unset. */
export const T_ENV: Record<string, string> = { TSK_T_HOME: '/home/t', TSK_T_EMPTY: '' };

/** CASES are T1-T15: name, .tsk input, expected JSON text (nested model, key order included). */
export const CASES: Array<{ name: string; src: string; expected: string }> = [
  {
    name: 'T1: scalars, both separators, full-line comments',
    src: lines(
      '# comment',
      '// also a comment',
      'name: "Tusk App"',
      'version = "1.2.0"',
      'port: 8080',
      'ratio = 0.5',
      'neg: -42',
      'on: true',
      'off = false',
      'secret: null',
      'mode: production mode',
      "single: 'it is'",
    ),
    expected:
      '{"name":"Tusk App","version":"1.2.0","port":8080,"ratio":0.5,"neg":-42,"on":true,"off":false,"secret":null,"mode":"production mode","single":"it is"}',
  },
  {
    name: 'T2: sections',
    src: lines('[server]', 'host: "0.0.0.0"', 'port: 8080', '[database]', 'host = "db.local"', 'port = 5432'),
    expected: '{"server":{"host":"0.0.0.0","port":8080},"database":{"host":"db.local","port":5432}}',
  },
  {
    name: 'T3: blocks inside a section; the section continues after a block',
    src: lines(
      '[app]',
      'name: "demo"',
      'cache {',
      '    driver: "redis"',
      '    ttl: 300',
      '}',
      'queue >',
      '    driver: "sqs"',
      '    retries: 3',
      '<',
      'after: true',
    ),
    expected:
      '{"app":{"name":"demo","cache":{"driver":"redis","ttl":300},"queue":{"driver":"sqs","retries":3},"after":true}}',
  },
  {
    name: 'T4: nested blocks at top level',
    src: lines('server >', '    tls {', '        enabled: true', '    }', '    port: 443', '<', 'top: 1'),
    expected: '{"server":{"tls":{"enabled":true},"port":443},"top":1}',
  },
  {
    name: 'T5: globals and section-local references',
    src: lines('$app: "Tusk"', '$port: 9000', '[web]', 'title: $app', 'port: $port', 'host: "0.0.0.0"', 'bind: host'),
    expected: '{"$app":"Tusk","$port":9000,"web":{"title":"Tusk","port":9000,"host":"0.0.0.0","bind":"0.0.0.0"}}',
  },
  {
    name: 'T6: undefined, forward and falsy references',
    src: lines(
      'early: $later',
      '$later: "x"',
      'late: $later',
      '$off: false',
      'flag: $off',
      '[s]',
      'ref: other',
      'other: 1',
    ),
    expected: '{"early":"","$later":"x","late":"x","$off":false,"flag":false,"s":{"ref":"other","other":1}}',
  },
  {
    name: 'T7: arrays, inline objects, arrays of objects',
    src: lines(
      'tags: ["a", "b, c", \'d\']',
      'nums: [1, 2.5, -3, true, null]',
      'empty: []',
      'point: { x: 1, y: 2 }',
      'eqobj: { host = "h", port = 5432 }',
      'servers: [{ name: "a", port: 1 }, { name: "b", port: 2 }]',
      'matrix: [[1, 2], [3]]',
    ),
    expected:
      '{"tags":["a","b, c","d"],"nums":[1,2.5,-3,true,null],"empty":[],"point":{"x":1,"y":2},"eqobj":{"host":"h","port":5432},"servers":[{"name":"a","port":1},{"name":"b","port":2}],"matrix":[[1,2],[3]]}',
  },
  {
    name: 'T8: @env with defaults; the type of the default is not kept',
    src: lines(
      '[env]',
      'home: @env("TSK_T_HOME")',
      'port: @env("TSK_T_PORT", 8080)',
      'host: @env(\'TSK_T_HOST\', "localhost")',
      'none: @env("TSK_T_NONE")',
      'empty: @env("TSK_T_EMPTY", "dflt")',
    ),
    expected: '{"env":{"home":"/home/t","port":"8080","host":"localhost","none":"","empty":"dflt"}}',
  },
  {
    name: 'T9: comments after values; quoted strings containing #',
    src: lines(
      'url: "http://example.com/#top"',
      'color: "#ff0000"',
      'port: 8080 # inline comment',
      'name: "a # b"  # trailing',
      'bare: #fff',
    ),
    expected: '{"url":"http://example.com/#top","color":"#ff0000","port":8080,"name":"a # b","bare":"#fff"}',
  },
  {
    name: 'T10: ternary, concatenation, range',
    src: lines(
      '$env: "production"',
      '$ver: "2.0"',
      'workers: $env == "production" ? 8 : 2',
      'debug: $env != "production" ? true : false',
      'label: $env + "-build"',
      'full: "Tusk" + " v" + $ver',
      'path: "/var/log/" + $env + ".log"',
      'ports: 8000-9000',
    ),
    expected:
      '{"$env":"production","$ver":"2.0","workers":8,"debug":false,"label":"production-build","full":"Tusk v2.0","path":"/var/log/production.log","ports":{"min":8000,"max":9000,"type":"range"}}',
  },
  {
    name: 'T11: quoted text containing operator characters; escapes',
    src: lines(
      'msg: "a + b"',
      'q: "really? yes: no"',
      'dash: "10-20"',
      'num: "8080"',
      'esc: "say \\"hi\\"\\tnow\\\\"',
      "raw: 'C:\\new'",
    ),
    expected:
      '{"msg":"a + b","q":"really? yes: no","dash":"10-20","num":"8080","esc":"say \\"hi\\"\\tnow\\\\","raw":"C:\\\\new"}',
  },
  {
    name: 'T12: multiline string',
    src: lines('[tpl]', 'body: """', 'Hello', '  World # not a comment', '"""', 'after: 1'),
    expected: '{"tpl":{"body":"Hello\\n  World # not a comment","after":1}}',
  },
  {
    name: 'T13: semicolons, hyphenated keys, re-opened and empty sections',
    src: lines('[net]', 'max-conn = 100;', 'timeout: 2.5;', 'name: "x;y";', '[empty]', '[net]', 'extra: yes'),
    expected: '{"net":{"max-conn":100,"timeout":2.5,"name":"x;y","extra":"yes"},"empty":{}}',
  },
  {
    name: 'T14: number and keyword forms that stay strings',
    src: lines('a: 007', 'b: 1e3', 'c: +5', 'd: .5', 'e: 1_000', 'f: True', 'g: NULL', 'h: 2024-05'),
    expected:
      '{"a":7,"b":"1e3","c":"+5","d":".5","e":"1_000","f":"True","g":"NULL","h":{"min":2024,"max":5,"type":"range"}}',
  },
  {
    name: 'T15: malformed lines, dotted section, multi-line array, operator fallbacks',
    src: lines(
      '[first]',
      'a: 1',
      'this line has no separator',
      '9lives: 1',
      'empty_value:',
      '[x.y]',
      'b: 2',
      'list: [',
      '  "p",   # first',
      '  "q",',
      ']',
      'cached: @cache("5m", 42)',
      'other: @frobnicate("x", 1)',
    ),
    expected: '{"first":{"a":1},"x":{"y":{"b":2,"list":["p","q"],"cached":42,"other":"@frobnicate(\\"x\\", 1)"}}}',
  },
];

/** PIPELINE is the pipeline example of architecture.md (another fuzz seed). */
export const PIPELINE = lines(
  '$kafka: @env("KAFKA_BROKERS", "127.0.0.1:9092")',
  '',
  '[receivers.otlp]',
  'grpc: "0.0.0.0:4317"',
  'http: "0.0.0.0:4318"',
  '',
  '[processors.tail_sampling]',
  'decision_wait: "10s"',
  'state: "redis"',
  'redis: @env("REDIS_URL", "redis://127.0.0.1:6379")',
  'policies: [',
  '  { name: "errors", type: "status_code", codes: ["ERROR"] },',
  '  { name: "slow", type: "latency", above: "p95" },',
  '  { name: "rest", type: "adaptive", target_traces_per_sec: 20 },',
  ']',
  '',
  '[exporters.spans]',
  'type: "kafka"',
  'brokers: [$kafka]',
  'topic: "otlp_spans"',
  '',
  '[exporters.jaeger]',
  'endpoint: @env("JAEGER_ENDPOINT", "http://127.0.0.1:14268/api/traces")',
  '',
  '[pipelines.ingest]',
  'receivers: ["otlp"]',
  'exporters: ["spans"]',
  '',
  '[pipelines.sample]',
  'receivers: ["spans"]',
  'processors: ["tail_sampling"]',
  'exporters: ["jaeger"]',
);
