// The table of built-in component types: config `type` -> factory, per kind, and the catalog the config
// loader resolves types and custom processor modules with. The only module that knows the concrete
// components.

import type { AnyFactory, ExporterFactory, ProcessorFactory, ReceiverFactory } from '../sdk/component';
import type { ComponentCatalog } from '../../config/service/load';
import { loadProcessorModule, type LoadedProcessorModule } from './plugin-loader';
import { factory as otlpReceiver } from '../../receivers/otlp/factory';
import { factory as kafkaReceiver } from '../../receivers/kafka/factory';
import { factory as tailSampling } from '../../processors/tail-sampling/factory';
import { factory as spanMetrics } from '../../processors/spanmetrics/factory';
import { factory as wal } from '../../processors/wal/factory';
import { factory as kafkaExporter } from '../../exporters/kafka/factory';
import { factory as jaegerExporter } from '../../exporters/jaeger/factory';
import { factory as otlpExporter } from '../../exporters/otlp/factory';
import { factory as debugExporter } from '../../exporters/debug/factory';

type Kind = 'receiver' | 'processor' | 'exporter';

/** FactoryRegistry maps (kind, type) to a factory; custom processor modules load through it. */
export class FactoryRegistry implements ComponentCatalog {
  private readonly _byKind = new Map<Kind, Map<string, AnyFactory>>();

  /** register adds a factory; registering the same kind and type twice is an error. */
  register(factory: ReceiverFactory<never> | ProcessorFactory<never> | ExporterFactory<never>): this {
    const table = this._byKind.get(factory.kind) ?? new Map<string, AnyFactory>();
    if (table.has(factory.type)) throw new Error(`${factory.kind} type "${factory.type}" is registered twice`);
    table.set(factory.type, factory);
    this._byKind.set(factory.kind, table);
    return this;
  }

  /** get returns the factory of a type, or undefined. */
  get(kind: Kind, type: string): AnyFactory | undefined {
    return this._byKind.get(kind)?.get(type);
  }

  /** types lists the registered types of a kind, sorted. */
  types(kind: Kind): string[] {
    return [...(this._byKind.get(kind)?.keys() ?? [])].sort();
  }

  /** loadProcessorModule loads and checks a custom processor module (see plugin-loader.ts). */
  loadProcessorModule(spec: string, baseDir: string): Promise<LoadedProcessorModule> {
    return loadProcessorModule(spec, baseDir);
  }
}

/** builtinFactories returns a new registry holding every built-in component type. */
export function builtinFactories(): FactoryRegistry {
  return new FactoryRegistry()
    .register(otlpReceiver as ReceiverFactory<never>)
    .register(kafkaReceiver as ReceiverFactory<never>)
    .register(tailSampling as ProcessorFactory<never>)
    .register(spanMetrics as ProcessorFactory<never>)
    .register(wal as ProcessorFactory<never>)
    .register(kafkaExporter as ExporterFactory<never>)
    .register(jaegerExporter as ExporterFactory<never>)
    .register(otlpExporter as ExporterFactory<never>)
    .register(debugExporter as ExporterFactory<never>);
}
