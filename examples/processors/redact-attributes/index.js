// redact_attributes: an example custom processor module for tusk-collector. It replaces the values
// of sensitive span, event and resource attributes (by exact key or by key pattern) before traces
// leave the pipeline. Declare it in a pipeline file:
//
//   [processors.redact]
//   module: "./examples/processors/redact-attributes/index.js"
//   keys: ["http.request.header.authorization", "user.email"]
//   key_patterns: ["(?i)password", "token$"]
//
// It only imports the public plugin API, like any third-party module would.
'use strict';

const { defineProcessorFactory, z, decodeTraces, encodeTraces, once } = require('tusk-collector/plugin-api');

/** @typedef {{ keys: string[], key_patterns: string[], replacement: string }} RedactConfig */

const configSchema = z
  .object({
    /** Attribute keys whose values are replaced. */
    keys: z.array(z.string().min(1)).default([]),
    /** Regular expressions matched against attribute keys; a leading (?i) makes one case-insensitive. */
    key_patterns: z
      .array(z.string())
      .default([])
      .superRefine((patterns, ctx) => {
        patterns.forEach((p, i) => {
          try {
            compile(p);
          } catch (err) {
            ctx.addIssue({ code: 'custom', path: [i], message: `invalid regular expression: ${err.message}` });
          }
        });
      }),
    /** The value written instead of the secret. */
    replacement: z.string().default('***'),
  })
  .strict();

function compile(pattern) {
  return pattern.startsWith('(?i)') ? new RegExp(pattern.slice(4), 'i') : new RegExp(pattern);
}

/**
 * RedactAttributesProcessor rewrites each chunk only when it holds an attribute to redact, so traces
 * without secrets pass through as the same bytes.
 */
class RedactAttributesProcessor {
  /** @param {RedactConfig} config @param {import('tusk-collector/plugin-api').ProcessorNext} next */
  constructor(settings, config, next) {
    this._logger = settings.logger;
    this._next = next;
    this.capabilities = { mutatesData: true };
    this.shutdown = once(async () => {});
    this.reconfigure(config);
    this._redacted = 0;
  }

  reconfigure(config) {
    this._keys = new Set(config.keys);
    this._patterns = config.key_patterns.map(compile);
    this._replacement = config.replacement;
  }

  async start() {}

  _isSecret(key) {
    return this._keys.has(key) || this._patterns.some((re) => re.test(key));
  }

  _redactList(attributes) {
    let changed = false;
    for (const kv of attributes) {
      if (this._isSecret(kv.key)) {
        kv.value = { type: 'string', value: this._replacement };
        changed = true;
      }
    }
    return changed;
  }

  _redactChunk(chunk) {
    const resourceSpans = decodeTraces(chunk.data);
    let changed = false;
    for (const rs of resourceSpans) {
      changed = this._redactList(rs.resource.attributes) || changed;
      for (const ss of rs.scopeSpans) {
        for (const span of ss.spans) {
          changed = this._redactList(span.attributes) || changed;
          for (const ev of span.events) changed = this._redactList(ev.attributes) || changed;
          for (const link of span.links) changed = this._redactList(link.attributes) || changed;
        }
      }
    }
    if (!changed) return chunk;
    this._redacted++;
    return { traceId: chunk.traceId, data: encodeTraces(resourceSpans), spanCount: chunk.spanCount };
  }

  consumeTraces(batch, signal) {
    return this._next.consumeTraces({ chunks: batch.chunks.map((c) => this._redactChunk(c)) }, signal);
  }

  consumeLogs(batch, signal) {
    if (!this._next.consumeLogs) return Promise.resolve();
    return this._next.consumeLogs(batch, signal);
  }
}

exports.factory = defineProcessorFactory({
  type: 'redact_attributes',
  configSchema,
  create: (settings, config, next) => new RedactAttributesProcessor(settings, config, next),
});
