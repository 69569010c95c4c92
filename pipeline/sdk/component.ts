// The component model every receiver, processor and exporter implements: factories, lifecycle,
// the data-handoff contract (a promise that resolves when the data is settled) and the Host.

import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ZodType } from 'zod';
import type { LogBatch, TraceBatch } from './trace-batch';

/** Capabilities declares how a consumer treats the data it receives. */
export interface Capabilities {
  /** True when the consumer changes the batch it gets; the fan-out clones only for these. */
  readonly mutatesData: boolean;
}

/**
 * TracesConsumer is the single data-handoff contract. `consumeTraces` resolves when the batch is
 * settled (accepted by the next durable hop, exported, or dropped on purpose by a policy); a rejection
 * means "not accepted": a PermanentError means never retry this data, any other error means retry later.
 */
export interface TracesConsumer {
  readonly capabilities: Capabilities;
  consumeTraces(batch: TraceBatch, signal?: AbortSignal): Promise<void>;
}

/** LogsConsumer is the same contract for log records. */
export interface LogsConsumer {
  consumeLogs(batch: LogBatch, signal?: AbortSignal): Promise<void>;
}

/** ComponentHealth is what a component says about itself on /readyz. */
export interface ComponentHealth {
  /** False when the component cannot do its work now (a dependency is unreachable). */
  readonly ready: boolean;
  /** True when it works, but in a reduced mode (e.g. Redis down: deciding from local state). */
  readonly degraded?: boolean;
  /** One line for humans. */
  readonly detail?: string;
}

/** DecisionRecord explains why a trace was kept or dropped (architecture.md, contract 6). */
export interface DecisionRecord {
  readonly traceId: string;
  readonly decision: 'sampled' | 'not_sampled';
  /** Name of the policy that decided. */
  readonly policy: string;
  /** One sentence: why. */
  readonly reason: string;
  /** The inputs the policy used (e.g. the P95 it compared against, the rate it applied). */
  readonly inputs: Readonly<Record<string, string | number | boolean>>;
  /** Unix milliseconds of the decision. */
  readonly decidedAt: number;
}

/** DecisionExplainer is implemented by components that can answer GET /v1/decisions/{traceId}. */
export interface DecisionExplainer {
  explainDecision(traceId: string): Promise<DecisionRecord | undefined>;
}

/** Host is what the running pipeline offers its components. */
export interface Host {
  /** Reports an error the component cannot recover from; the service shuts down. */
  reportFatalError(err: Error): void;
}

/**
 * Component is the lifecycle every part implements. `start` returns quickly and runs loops in the
 * background; `shutdown` is idempotent, safe without `start`, stops timers and flushes downstream.
 */
export interface Component {
  start(host: Host): Promise<void>;
  shutdown(): Promise<void>;
  /** Optional readiness report for /readyz. */
  health?(): ComponentHealth;
}

/** Receiver feeds data into a pipeline. */
export type Receiver = Component;

/** Processor transforms or holds data between a receiver and the exporters. */
export interface Processor extends Component, TracesConsumer {
  consumeLogs?(batch: LogBatch, signal?: AbortSignal): Promise<void>;
  /**
   * Optional: called on every processor before the receivers stop, so a processor that holds data can
   * refuse new data and hand back what upstream can replay (its shutdown follows once receivers stopped).
   */
  beginDrain?(): void;
  /**
   * Optional: applies a changed config (already validated by the factory's schema) while running, on a
   * reload whose wiring is unchanged. A processor without it is restarted to take a new config.
   */
  reconfigure?(config: unknown): void;
}

/** Exporter sends data out of the pipeline. */
export interface Exporter extends Component, TracesConsumer {
  consumeLogs?(batch: LogBatch, signal?: AbortSignal): Promise<void>;
}

/** ComponentSettings is handed to every factory's `create`. */
export interface ComponentSettings {
  /** Full id, e.g. `processors.tail_sampling` or `exporters.jaeger`. */
  readonly id: string;
  /** The NAME part of the id. */
  readonly name: string;
  /** Child logger bound to this component. */
  readonly logger: Logger;
  /** The service's metrics registry (prom-client). */
  readonly metrics: Registry;
}

/** Where a receiver sends what it gets; `logs` is set when a logs pipeline uses the receiver. */
export interface ReceiverNext {
  readonly traces: TracesConsumer;
  readonly logs?: LogsConsumer;
}

/** Where a processor sends what it lets through. */
export interface ProcessorNext extends TracesConsumer {
  consumeLogs?(batch: LogBatch, signal?: AbortSignal): Promise<void>;
}

/** KafkaTopics names the Kafka topics a component reads (a receiver) or writes (an exporter), per signal. */
export interface KafkaTopics {
  readonly traces: readonly string[];
  readonly logs: readonly string[];
}

interface FactoryBase<C> {
  /** The snake_case type name used in configuration files. */
  readonly type: string;
  /** Schema that turns the raw section into a typed config (defaults, units, ranges, unknown keys). */
  readonly configSchema: ZodType<C>;
  /** A NEW default config object on every call. */
  createDefaultConfig(): C;
  /**
   * Optional: the Kafka topics a component with this config reads or writes. The config loader uses them
   * to refuse wiring that cannot work (pipelines feeding each other in a loop through topics, a receiver
   * reading a traces topic that no traces pipeline takes).
   */
  kafkaTopics?(config: C): KafkaTopics;
}

/** ReceiverFactory builds receivers of one type. */
export interface ReceiverFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'receiver';
  create(settings: ComponentSettings, config: C, next: ReceiverNext): Receiver;
}

/** ProcessorFactory builds processors of one type. */
export interface ProcessorFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'processor';
  create(settings: ComponentSettings, config: C, next: ProcessorNext): Processor;
}

/** ExporterFactory builds exporters of one type. */
export interface ExporterFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'exporter';
  create(settings: ComponentSettings, config: C): Exporter;
}

/** Any factory. */
export type AnyFactory = ReceiverFactory<never> | ProcessorFactory<never> | ExporterFactory<never>;

type FactorySpec<F> = Omit<F, 'kind' | 'createDefaultConfig'>;

function defaultsOf<C>(schema: ZodType<C>): () => C {
  return () => schema.parse({});
}

/** defineReceiverFactory is the only way to declare a receiver type. */
export function defineReceiverFactory<C>(spec: FactorySpec<ReceiverFactory<C>>): ReceiverFactory<C> {
  return Object.freeze({ ...spec, kind: 'receiver' as const, createDefaultConfig: defaultsOf(spec.configSchema) });
}

/** defineProcessorFactory is the only way to declare a processor type (built-in or custom module). */
export function defineProcessorFactory<C>(spec: FactorySpec<ProcessorFactory<C>>): ProcessorFactory<C> {
  return Object.freeze({ ...spec, kind: 'processor' as const, createDefaultConfig: defaultsOf(spec.configSchema) });
}

/** defineExporterFactory is the only way to declare an exporter type. */
export function defineExporterFactory<C>(spec: FactorySpec<ExporterFactory<C>>): ExporterFactory<C> {
  return Object.freeze({ ...spec, kind: 'exporter' as const, createDefaultConfig: defaultsOf(spec.configSchema) });
}

/** once wraps an async function so that concurrent and repeated calls share one run (idempotent shutdown). */
export function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}
