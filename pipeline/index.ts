// Public entry point of the tusk-collector package: run pipelines from code, and the types and
// helpers that custom components use (the same ones the plugin API exposes).

export { Service } from './runtime/service';
export type { ServiceOptions, ComponentStatus } from './runtime/service';
export { loadServiceConfig } from '../config/service/load';
export type { ServiceConfig, ComponentSpec, LoadOptions } from '../config/service/load';
export { ConfigError, formatIssue } from '../config/service/config-error';
export type { ConfigIssue } from '../config/service/config-error';
export { parseTsk, parseTskFile, flatten, formatDiagnostic, TskParseError } from '../config/tsk/parser';
export type { TskParseOptions, TskParseResult, TskDiagnostic, TskValue, SourcePos } from '../config/tsk/parser';
export { builtinFactories, FactoryRegistry } from './runtime/registry';
export { main } from './runtime/cli/main';
export { defineReceiverFactory, defineProcessorFactory, defineExporterFactory, once } from './sdk/component';
export type {
  Capabilities,
  Component,
  ComponentHealth,
  ComponentSettings,
  DecisionExplainer,
  DecisionRecord,
  Exporter,
  ExporterFactory,
  Host,
  LogsConsumer,
  Processor,
  ProcessorFactory,
  ProcessorNext,
  Receiver,
  ReceiverFactory,
  ReceiverNext,
  TracesConsumer,
} from './sdk/component';
export type { TraceBatch, TraceChunk, LogBatch, LogChunk } from './sdk/trace-batch';
export {
  PipelineError,
  PermanentError,
  BackpressureError,
  ShutdownError,
  isPermanent,
  isRetriable,
} from './sdk/errors';
