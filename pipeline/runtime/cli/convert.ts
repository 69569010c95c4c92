// `tusk-collector convert collector.yaml > pipeline.tsk`: reads an OpenTelemetry Collector config (the
// `yaml` package, with source positions), converts its trace pipelines, their receivers, processors and
// exporters, writes the .tsk pipeline to stdout and, on stderr, every part it could not convert (and every
// remark) with the YAML line it comes from. `${env:X}` / `${env:X:-default}` / `${X}` become @env.
//
// Exit codes: 0 everything converted; 1 converted, but something was left out (listed on stderr); 2 bad
// usage, unreadable or invalid YAML, or a converted pipeline that does not validate.

import fs from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { loadServiceConfig } from '../../../config/service/load';
import { ConfigError, formatIssue } from '../../../config/service/config-error';
import { builtinFactories } from '../registry';
import { convertExporter, convertProcessor, convertReceiver, type Converted } from './convert-components';
import type { Converter, Remark, YamlPath } from './convert-model';
import type { CliIo } from './run';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** CONVERT_USAGE is the help of the convert command. */
export const CONVERT_USAGE = `Usage: tusk-collector convert FILE [--no-validate]
  Convert an OpenTelemetry Collector config (YAML; - for stdin) to a .tsk pipeline on stdout: the traces
  pipelines with their otlp/kafka receivers, tail_sampling/batch/memory_limiter processors and
  otlp/otlphttp/kafka/debug exporters; \${env:X} and \${env:X:-default} become @env("X"[, "default"]).
  Everything that could not be converted is listed on stderr as FILE:LINE: dropped: ..., remarks as
  FILE:LINE: note: ...; the output is checked with the same loader as validate.
  --no-validate      do not check the output (e.g. when it needs environment variables not set here)
  -h, --help         print this help
  Exit: 0 converted; 1 converted, something was dropped; 2 usage, unreadable YAML, or an invalid result.
`;

/** ConvertResult is the .tsk text and what was left out. */
export interface ConvertResult {
  readonly tsk: string;
  readonly remarks: readonly (Remark & { readonly line: number | undefined })[];
}

/** componentId splits a Collector component id "type/name" into its type and our section name. */
function componentId(id: string): { type: string; section: string } {
  const slash = id.indexOf('/');
  const type = slash < 0 ? id : id.slice(0, slash);
  return { type, section: id.replace(/[^A-Za-z0-9_]/g, '_') };
}

/** convertCollectorConfig converts Collector YAML text; `file` names it in the remarks. */
export function convertCollectorConfig(text: string, file: string): ConvertResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new YamlError(`${file}:${e.linePos?.[0].line ?? 0}:${e.linePos?.[0].col ?? 0}: ${e.message.split('\n')[0]}`);
  }
  const root: unknown = doc.toJS();
  if (!isObj(root))
    throw new YamlError(`${file}: expected a mapping at the top (receivers, processors, exporters, service)`);
  const remarks: Remark[] = [];
  const c: Converter = {
    drop: (path, message) => remarks.push({ kind: 'dropped', path, message }),
    note: (path, message) => remarks.push({ kind: 'note', path, message }),
  };

  const service = isObj(root.service) ? root.service : {};
  const pipelines = isObj(service.pipelines) ? service.pipelines : {};
  const sections: string[] = [`# Converted from ${file} by tusk-collector convert.`];
  const serviceOut: Obj = {};
  const telemetry = isObj(service.telemetry) ? service.telemetry : {};
  const logs = isObj(telemetry.logs) ? telemetry.logs : {};
  if (typeof logs.level === 'string') serviceOut.log_level = logs.level.toLowerCase();
  for (const k of Object.keys(telemetry)) {
    if (k === 'metrics')
      c.note(['service', 'telemetry', k], 'metrics are on the admin endpoint (/metrics) here; left out');
    else if (k !== 'logs') c.drop(['service', 'telemetry', k], `service.telemetry.${k} has no counterpart here`);
  }
  for (const k of Object.keys(logs)) {
    if (k !== 'level') c.note(['service', 'telemetry', 'logs', k], `logs.${k} left out (only the level is converted)`);
  }
  for (const k of Object.keys(service)) {
    if (k === 'extensions')
      c.note(['service', k], 'extensions: health (/), readiness and metrics are on the admin endpoint here; left out');
    else if (k !== 'pipelines' && k !== 'telemetry') c.drop(['service', k], `service.${k} has no counterpart here`);
  }
  if (Object.keys(serviceOut).length > 0) sections.push(section('service', serviceOut));
  for (const k of ['extensions', 'connectors']) if (root[k] !== undefined) c.drop([k], `${k} have no counterpart here`);
  for (const k of Object.keys(root)) {
    if (!['receivers', 'processors', 'exporters', 'service', 'extensions', 'connectors'].includes(k))
      c.drop([k], `unknown top-level key ${k}`);
  }

  type Kind = 'receivers' | 'processors' | 'exporters';
  const converted: Record<Kind, Map<string, Converted | null>> = {
    receivers: new Map(),
    processors: new Map(),
    exporters: new Map(),
  };
  let tailMerge: Obj = {};
  const used = { receivers: new Set<string>(), processors: new Set<string>(), exporters: new Set<string>() };
  for (const [name, p] of Object.entries(pipelines)) {
    const signal = name.split('/')[0];
    if (signal !== 'traces') {
      c.drop(['service', 'pipelines', name], `${signal} pipelines have no counterpart here (traces only)`);
      continue;
    }
    const pl = isObj(p) ? p : {};
    for (const kind of ['receivers', 'processors', 'exporters'] as const) {
      if (Array.isArray(pl[kind])) for (const id of pl[kind] as unknown[]) used[kind].add(String(id));
    }
  }
  for (const kind of ['receivers', 'processors', 'exporters'] as const) {
    const defs = isObj(root[kind]) ? (root[kind] as Obj) : {};
    for (const [id, raw] of Object.entries(defs)) {
      if (!used[kind].has(id)) {
        c.note([kind, id], `${kind.slice(0, -1)} ${id} is in no traces pipeline; left out`);
        continue;
      }
      const { type, section: sec } = componentId(id);
      const path = [kind, id];
      const result =
        kind === 'receivers'
          ? convertReceiver(type, raw, path, c)
          : kind === 'exporters'
            ? convertExporter(type, raw, path, c)
            : convertProcessor(type, raw, path, c);
      if (result === undefined) {
        c.drop(path, `${kind.slice(0, -1)} type ${type} has no counterpart here`);
        converted[kind].set(id, null);
        continue;
      }
      if ('merge' in result) {
        tailMerge = { ...tailMerge, ...result.merge };
        converted[kind].set(id, null);
        continue;
      }
      converted[kind].set(id, result);
      const body = result.type === sec ? result.settings : { type: result.type, ...result.settings };
      sections.push(section(`${kind}.${sec}`, body));
    }
  }
  // Settings other processors hand to tail_sampling (memory_limiter).
  if (Object.keys(tailMerge).length > 0) {
    const tails = [...converted.processors.entries()].filter(([, v]) => v?.type === 'tail_sampling');
    if (tails.length === 0) c.note(['processors'], 'memory_limiter: no tail_sampling processor to bound; left out');
    for (const [id, v] of tails) {
      const { section: sec } = componentId(id);
      const i = sections.findIndex((s) => s.startsWith(`[processors.${sec}]`));
      const body = { ...(v as Converted).settings, ...tailMerge };
      sections[i] = section(`processors.${sec}`, v?.type === sec ? body : { type: 'tail_sampling', ...body });
    }
  }
  for (const [name, p] of Object.entries(pipelines)) {
    if (name.split('/')[0] !== 'traces') continue;
    const pl = isObj(p) ? p : {};
    const out: Obj = {};
    for (const kind of ['receivers', 'processors', 'exporters'] as const) {
      const ids = Array.isArray(pl[kind]) ? (pl[kind] as unknown[]).map(String) : [];
      const kept = ids.filter((id) => converted[kind].get(id)).map((id) => componentId(id).section);
      if (kept.length > 0 || kind !== 'processors') out[kind] = kept;
      ids.forEach((id, i) => {
        if (!(isObj(root[kind]) && id in (root[kind] as Obj)))
          c.drop(['service', 'pipelines', name, kind, i], `${id} is not defined`);
      });
    }
    sections.push(section(`pipelines.${componentId(name).section}`, out));
  }
  return {
    tsk: sections.join('\n\n') + '\n',
    remarks: remarks.map((r) => ({ ...r, line: lineOf(doc, r.path, lineCounter) })),
  };
}

/** lineOf finds the line of the deepest existing node on `path` (1-based). */
function lineOf(doc: Document, path: YamlPath, lc: LineCounter): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && node.range) {
      // The key's line, when the node is a mapping value (a block's value starts on the next line).
      const parent = n > 0 ? doc.getIn(path.slice(0, n - 1), true) : undefined;
      if (isMap(parent)) {
        const pair = parent.items.find(
          (it) => String((it.key as { value?: unknown } | null)?.value) === String(path[n - 1]),
        );
        const key = pair?.key as { range?: [number, number, number] } | undefined;
        if (key?.range) return lc.linePos(key.range[0]).line;
      }
      if (isSeq(parent) || !isMap(parent)) return lc.linePos(node.range[0]).line;
    }
  }
  return undefined;
}

/** YamlError is an unreadable Collector config. */
export class YamlError extends Error {
  readonly code = 'ERR_CONVERT_YAML';
  constructor(message: string) {
    super(message);
    this.name = 'YamlError';
  }
}

// ---- .tsk writer -------------------------------------------------------------------------------------

const ENV_REF = /\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** scalar renders a value as .tsk: numbers and booleans bare, strings quoted, ${env:X} as @env. */
function scalar(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return '""';
  const s = String(v);
  const parts: string[] = [];
  let last = 0;
  for (const m of s.matchAll(ENV_REF)) {
    const at = m.index ?? 0;
    if (at > last) parts.push(JSON.stringify(s.slice(last, at)));
    parts.push(
      m[2] === undefined ? `@env(${JSON.stringify(m[1])})` : `@env(${JSON.stringify(m[1])}, ${JSON.stringify(m[2])})`,
    );
    last = at + m[0].length;
  }
  if (parts.length === 0) return JSON.stringify(s);
  if (last < s.length) parts.push(JSON.stringify(s.slice(last)));
  return parts.join(' + ');
}

function key(k: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(k) ? k : JSON.stringify(k);
}

/** inline renders any value on one line (objects as { k: v }, arrays as [ ... ]). */
function inline(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(inline).join(', ')}]`;
  if (isObj(v))
    return `{ ${Object.entries(v)
      .map(([k, x]) => `${key(k)}: ${inline(x)}`)
      .join(', ')} }`;
  return scalar(v);
}

/** body renders the keys of a section or block; nested objects become blocks, lists of objects one per line. */
function body(o: Obj, indent: string): string[] {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (isObj(v) && Object.keys(v).length > 0) {
      lines.push(`${indent}${key(k)} {`, ...body(v, indent + '    '), `${indent}}`);
    } else if (Array.isArray(v) && v.some(isObj)) {
      lines.push(`${indent}${key(k)}: [`, ...v.map((x) => `${indent}  ${inline(x)},`), `${indent}]`);
    } else {
      lines.push(`${indent}${key(k)}: ${inline(v)}`);
    }
  }
  return lines;
}

function section(name: string, o: Obj): string {
  return [`[${name}]`, ...body(o, '')].join('\n');
}

// ---- command -----------------------------------------------------------------------------------------

/** convertCommand runs `tusk-collector convert ARGS`; resolves with the exit code. */
export async function convertCommand(
  args: readonly string[],
  io: CliIo,
  input: { readStdin?: () => string; env?: Record<string, string | undefined> } = {},
): Promise<number> {
  let file: string | undefined;
  let validate = true;
  for (const a of args) {
    if (a === '--help' || a === '-h') {
      io.stdout(CONVERT_USAGE);
      return 0;
    } else if (a === '--no-validate') validate = false;
    else if (a.startsWith('-') && a !== '-') return usage(io, `unknown option ${a}`);
    else if (file === undefined) file = a;
    else return usage(io, `unexpected argument ${a} (one FILE only)`);
  }
  if (file === undefined) return usage(io, 'missing FILE (a Collector YAML config, or - for standard input)');
  const name = file === '-' ? '<stdin>' : file;
  let result: ConvertResult;
  try {
    const text =
      file === '-' ? (input.readStdin ?? (() => fs.readFileSync(0, 'utf8')))() : fs.readFileSync(file, 'utf8');
    result = convertCollectorConfig(text, name);
  } catch (err) {
    io.stderr(`tusk-collector convert: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  for (const r of result.remarks) {
    io.stderr(`${name}:${r.line ?? 0}: ${r.kind}: ${r.path.join('.')}: ${r.message}\n`);
  }
  if (validate) {
    try {
      await loadServiceConfig('<converted>', { registry: builtinFactories(), source: result.tsk, env: input.env });
    } catch (err) {
      const lines = err instanceof ConfigError ? err.issues.map((i) => formatIssue(i)) : [String(err)];
      io.stderr(
        `tusk-collector convert: the converted pipeline does not validate:\n${lines.map((l) => `  ${l}`).join('\n')}\n`,
      );
      io.stdout(result.tsk);
      return 2;
    }
  }
  io.stdout(result.tsk);
  const dropped = result.remarks.filter((r) => r.kind === 'dropped').length;
  if (dropped > 0)
    io.stderr(
      `tusk-collector convert: ${dropped} item${dropped === 1 ? '' : 's'} could not be converted (listed above)\n`,
    );
  return dropped > 0 ? 1 : 0;
}

function usage(io: CliIo, message: string): number {
  io.stderr(`tusk-collector convert: ${message}\n${CONVERT_USAGE}`);
  return 2;
}
