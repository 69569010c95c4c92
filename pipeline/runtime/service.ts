// The running service: builds the component graph of the selected pipelines from a validated
// config, starts it (exporters, then processors, then receivers), reports health, answers decision
// look-ups, reloads processor settings, and shuts down in the reverse order so each stage drains.

import type { Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type {
  Component,
  ComponentHealth,
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
  TracesConsumer,
} from '../sdk/component';
import { fanoutLogs, fanoutTraces } from './fanout';
import { isInsightsProvider, type InsightsProvider } from '../sdk/insights';
import { PipelineError } from '../sdk/errors';
import { tracedLogs, tracedTraces } from '../sdk/self-telemetry/tracing';
import type { ComponentSpec, ServiceConfig } from '../../config/service/load';
import type { PipelineSection } from '../../config/service/service-schema';

/** A built component with what the service needs to know about it. */
interface Node<C extends Component = Component> {
  readonly id: string;
  readonly spec: ComponentSpec;
  readonly component: C;
  /** For processors: the pipeline they belong to. */
  readonly pipeline?: string;
}

/** ComponentStatus is one row of the /readyz report. */
export interface ComponentStatus extends ComponentHealth {
  readonly id: string;
  readonly started: boolean;
}

/** ServiceOptions configures a Service. */
export interface ServiceOptions {
  /** Run only these pipelines (default: all). */
  pipelines?: readonly string[];
  logger: Logger;
  metrics: Registry;
  /** Called when a component reports an error it cannot recover from. */
  onFatal?: (err: Error) => void;
  /** When set (self-tracing on), every hand-off between components runs in a span of this tracer. */
  tracer?: Tracer;
}

function supportsLogs(c: Component): c is Component & LogsConsumer {
  return typeof (c as Partial<LogsConsumer>).consumeLogs === 'function';
}

function isExplainer(c: Component): c is Component & DecisionExplainer {
  return typeof (c as Partial<DecisionExplainer>).explainDecision === 'function';
}

/** Service runs the pipelines of one config. */
export class Service implements Host {
  private _config: ServiceConfig;
  private readonly _opts: ServiceOptions;
  private readonly _pipelines: Map<string, PipelineSection>;
  private readonly _exporters = new Map<string, Node>();
  private readonly _processors: Node<Processor>[] = [];
  private readonly _receivers = new Map<string, Node>();
  private readonly _started = new Set<string>();
  private _shutdown?: Promise<void>;

  constructor(config: ServiceConfig, opts: ServiceOptions) {
    this._config = config;
    this._opts = opts;
    const wanted = opts.pipelines && opts.pipelines.length > 0 ? opts.pipelines : [...config.pipelines.keys()];
    this._pipelines = new Map();
    for (const name of wanted) {
      const p = config.pipelines.get(name);
      if (!p) {
        throw new PipelineError(
          'ERR_SERVICE_UNKNOWN_PIPELINE',
          `no pipeline named "${name}" in ${config.file}; it has: ${[...config.pipelines.keys()].join(', ')}`,
          { retriable: false },
        );
      }
      this._pipelines.set(name, p);
    }
    this._build();
  }

  /** The pipelines this service runs. */
  get pipelineNames(): string[] {
    return [...this._pipelines.keys()];
  }

  /** The validated config this service was built from. */
  get config(): ServiceConfig {
    return this._config;
  }

  private _settings(spec: ComponentSpec, pipeline?: string) {
    const id = pipeline ? `${spec.id}@${pipeline}` : spec.id;
    return { id, name: spec.name, logger: this._opts.logger.child({ component: id }), metrics: this._opts.metrics };
  }

  private _build(): void {
    const components = this._config.components;
    const spec = (id: string): ComponentSpec => {
      const s = components.get(id);
      if (!s) throw new PipelineError('ERR_SERVICE_GRAPH', `component ${id} is not declared`, { retriable: false });
      return s;
    };
    const traceHeads = new Map<string, TracesConsumer[]>();
    const logHeads = new Map<string, LogsConsumer[]>();
    for (const [name, p] of this._pipelines) {
      const exporters: Exporter[] = p.exporters.map((e) => {
        const id = `exporters.${e}`;
        let node = this._exporters.get(id);
        if (!node) {
          const s = spec(id);
          const component = (s.factory as ExporterFactory<unknown>).create(this._settings(s), s.config);
          node = { id, spec: s, component };
          this._exporters.set(id, node);
        }
        return node.component as Exporter;
      });
      let next: ProcessorNext = fanoutTraces(
        exporters.map((e, i) => this._traced(e, `export ${p.exporters[i]}`, `exporters.${p.exporters[i]}`)),
      );
      // Log records travel a traces pipeline (following their trace's sampling decision) to the exporters
      // that take logs; a pipeline none of whose exporters takes logs does not carry them.
      const logExporters = exporters.map((e, i) => ({ e, name: p.exporters[i] })).filter(({ e }) => supportsLogs(e));
      let carriesLogs = logExporters.length > 0;
      if (carriesLogs) {
        const logs = fanoutLogs(
          logExporters.map(({ e, name }) =>
            this._tracedLogs(e as unknown as LogsConsumer, `export logs ${name}`, `exporters.${name}`),
          ),
        );
        const traces = next;
        next = {
          capabilities: traces.capabilities,
          consumeTraces: (b, s) => traces.consumeTraces(b, s),
          consumeLogs: (b, s) => logs.consumeLogs(b, s),
        };
      }
      for (const procName of [...p.processors].reverse()) {
        const s = spec(`processors.${procName}`);
        const processor: Processor = (s.factory as ProcessorFactory<unknown>).create(
          this._settings(s, name),
          s.config,
          next,
        );
        this._processors.unshift({ id: `${s.id}@${name}`, spec: s, component: processor, pipeline: name });
        carriesLogs = carriesLogs && supportsLogs(processor);
        next = this._tracedProcessor(processor, `process ${procName}`, s.id);
      }
      const head = next;
      for (const r of p.receivers) {
        const id = `receivers.${r}`;
        if (p.signal === 'traces') {
          traceHeads.set(id, [...(traceHeads.get(id) ?? []), head]);
        }
        if (p.signal === 'logs' || carriesLogs) {
          if (!supportsLogs(head as unknown as Component)) continue;
          logHeads.set(id, [...(logHeads.get(id) ?? []), head as unknown as LogsConsumer]);
        }
      }
    }
    const noTraces: TracesConsumer = {
      capabilities: { mutatesData: false },
      consumeTraces: () =>
        Promise.reject(
          new PipelineError('ERR_SERVICE_NO_TRACES_PIPELINE', 'no traces pipeline uses this receiver', {
            retriable: false,
          }),
        ),
    };
    for (const id of new Set([...traceHeads.keys(), ...logHeads.keys()])) {
      const s = spec(id);
      const traces = traceHeads.get(id);
      const logs = logHeads.get(id);
      const component: Receiver = (s.factory as ReceiverFactory<unknown>).create(this._settings(s), s.config, {
        traces: traces ? this._traced(fanoutTraces(traces), `receive ${s.name}`, id) : noTraces,
        logs: logs ? this._tracedLogs(fanoutLogs(logs), `receive logs ${s.name}`, id) : undefined,
      });
      this._receivers.set(id, { id, spec: s, component });
    }
  }

  private _traced(consumer: TracesConsumer, operation: string, component: string): TracesConsumer {
    return this._opts.tracer ? tracedTraces(this._opts.tracer, operation, component, consumer) : consumer;
  }

  private _tracedLogs(consumer: LogsConsumer, operation: string, component: string): LogsConsumer {
    return this._opts.tracer ? tracedLogs(this._opts.tracer, operation, component, consumer) : consumer;
  }

  /** Wraps a processor's data methods in spans, keeping it a ProcessorNext. */
  private _tracedProcessor(processor: Processor, operation: string, component: string): ProcessorNext {
    if (!this._opts.tracer) return processor;
    const traces = tracedTraces(this._opts.tracer, operation, component, processor);
    const logs = supportsLogs(processor)
      ? tracedLogs(this._opts.tracer, `${operation} logs`, component, processor)
      : undefined;
    return {
      capabilities: processor.capabilities,
      consumeTraces: (b, sig) => traces.consumeTraces(b, sig),
      consumeLogs: logs ? (b, sig) => logs.consumeLogs(b, sig) : undefined,
    };
  }

  /** Host: a component reports an error it cannot recover from. */
  reportFatalError(err: Error): void {
    this._opts.logger.error({ err }, 'fatal component error');
    this._opts.onFatal?.(err);
  }

  /** All nodes in start order: exporters, processors (downstream first), receivers. */
  private _startOrder(): Node[] {
    return [...this._exporters.values(), ...[...this._processors].reverse(), ...this._receivers.values()];
  }

  /** start starts every component; if one fails, what was started is shut down and the error is thrown. */
  async start(): Promise<void> {
    for (const node of this._startOrder()) {
      try {
        await node.component.start(this);
        this._started.add(node.id);
      } catch (err) {
        this._opts.logger.error({ err, component: node.id }, 'component failed to start');
        await this.shutdown();
        throw new PipelineError(
          'ERR_SERVICE_START',
          `${node.id} failed to start: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err, retriable: false, component: node.id },
        );
      }
    }
  }

  /**
   * shutdown stops receivers first (no new data), then processors (which decide and flush what they
   * hold), then exporters. Idempotent; the deadline bounds the whole drain.
   */
  shutdown(deadlineMs = this._config.service.shutdown_timeout): Promise<void> {
    this._shutdown ??= (async () => {
      const deadline = Date.now() + deadlineMs;
      // Processors that hold data hand back what upstream can replay before the receivers drain.
      for (const node of this._processors) {
        const processor = node.component;
        if (this._started.has(node.id) && typeof processor.beginDrain === 'function') processor.beginDrain();
      }
      for (const node of this._startOrder().reverse()) {
        const left = Math.max(0, deadline - Date.now());
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), left);
        });
        try {
          const outcome = await Promise.race([node.component.shutdown().then(() => 'done' as const), timeout]);
          if (outcome === 'timeout')
            this._opts.logger.warn({ component: node.id }, 'shutdown deadline reached; moving on');
        } catch (err) {
          this._opts.logger.error({ err, component: node.id }, 'component failed to shut down cleanly');
        } finally {
          clearTimeout(timer);
        }
        this._started.delete(node.id);
      }
    })();
    return this._shutdown;
  }

  /** status reports every component's readiness (for /readyz). */
  status(): ComponentStatus[] {
    return this._startOrder().map((node) => {
      const started = this._started.has(node.id);
      const h = node.component.health?.() ?? { ready: true };
      return {
        id: node.id,
        started,
        ready: started && h.ready,
        degraded: h.degraded,
        detail: started ? h.detail : 'not started',
      };
    });
  }

  /** explainDecision asks every processor that keeps decisions about a trace. */
  async explainDecision(traceId: string): Promise<DecisionRecord | undefined> {
    for (const node of this._processors) {
      if (isExplainer(node.component)) {
        const record = await node.component.explainDecision(traceId);
        if (record) return record;
      }
    }
    return undefined;
  }

  /** insightProviders lists the processors that show something on the console, with their ids. */
  insightProviders(): Array<{ id: string; pipeline: string; provider: InsightsProvider }> {
    return this._processors
      .filter((n) => isInsightsProvider(n.component))
      .map((n) => ({ id: n.id, pipeline: n.pipeline ?? '', provider: n.component as unknown as InsightsProvider }));
  }

  /**
   * reconfigure applies a new config's processor settings to the running processors, when the wiring
   * (pipelines, component types, receivers, exporters) is unchanged. Returns what it could not apply.
   */
  reconfigure(next: ServiceConfig): string[] {
    const problems: string[] = [];
    const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    for (const [name, p] of this._pipelines) {
      if (!sameJson(next.pipelines.get(name), p))
        problems.push(`pipeline "${name}" changed its wiring; restart to apply`);
    }
    for (const id of [...this._receivers.keys(), ...this._exporters.keys()]) {
      if (!sameJson(next.components.get(id)?.config, this._config.components.get(id)?.config))
        problems.push(`${id} changed; restart to apply`);
    }
    const changes: Array<{ target: Processor; config: unknown }> = [];
    for (const node of this._processors) {
      const updated = next.components.get(node.spec.id);
      if (!updated || updated.type !== node.spec.type) {
        problems.push(`${node.spec.id} changed type; restart to apply`);
        continue;
      }
      if (sameJson(updated.config, this._config.components.get(node.spec.id)?.config)) continue;
      const target = node.component;
      if (typeof target.reconfigure !== 'function')
        problems.push(`${node.spec.id} cannot be reconfigured while running; restart to apply`);
      else changes.push({ target, config: updated.config });
    }
    if (problems.length > 0) return problems;
    for (const { target, config } of changes) target.reconfigure?.(config);
    this._config = next;
    return problems;
  }
}
