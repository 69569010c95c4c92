// The public contract for custom processor modules: everything a plugin may import from tusk-collector.
// A module declared as `[processors.NAME] module: "./my-processor.js"` exports `factory`, built with
// defineProcessorFactory, exactly like the built-in processors.

export { z } from 'zod';
export { defineProcessorFactory, once } from './component';
export type {
  Capabilities,
  Component,
  ComponentHealth,
  ComponentSettings,
  Host,
  Processor,
  ProcessorFactory,
  ProcessorNext,
  TracesConsumer,
  LogsConsumer,
} from './component';
export type { TraceBatch, TraceChunk, LogBatch, LogChunk } from './trace-batch';
export { PipelineError, PermanentError, BackpressureError, ShutdownError, isPermanent, isRetriable } from './errors';
export { duration, byteSize, int, num, bool, stringList } from './config-types';
export { decodeTraces, encodeTraces, indexTraceChunk, appendSpanAttributes } from './otlp/index';
