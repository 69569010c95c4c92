// Config schema of the `debug` exporter (spans as text or JSON lines to stdout or a file).

import { z } from 'zod';

/**
 * configSchema of the debug exporter:
 * - `verbosity`: "basic" (default; ids, name, kind, service, start, duration, status) or "detailed"
 *   (plus attributes, resource, scope, events, links, trace state, flags, dropped counts).
 * - `format`: "text" (default; one line per span, detailed adds indented lines below it) or "json"
 *   (one JSON object per span and line, OTLP/JSON field names: hex ids, nanoseconds as strings,
 *   typed attribute values, plus `resource` and `scope`).
 * - `path`: file to append to; '' (default) = stdout.
 */
export const configSchema = z
  .object({
    verbosity: z.enum(['basic', 'detailed']).default('basic'),
    format: z.enum(['text', 'json']).default('text'),
    path: z.string().default(''),
  })
  .strict();

/** DebugExporterConfig is the parsed config. */
export type DebugExporterConfig = z.output<typeof configSchema>;
