// Adapts the running Service to what the console endpoints ask (api.ts ConsoleSource).

import type { ReplicasView } from '../replicas';
import type { Service } from '../service';
import type { ConsoleSource, ReloadResult } from './api';

export type { ReloadResult };

/** consoleSource reads `service` live (its config changes on reload); `replicas` answers /v1/replicas. */
export function consoleSource(
  service: Service,
  startedAt: number,
  lastReload: () => ReloadResult | undefined,
  replicas?: () => ReplicasView | undefined,
): ConsoleSource {
  return {
    serviceName: service.config.service.name,
    startedAt,
    status: () => service.status(),
    explainDecision: (id) => service.explainDecision(id),
    insightProviders: () => service.insightProviders(),
    pipelines: () =>
      service.pipelineNames.map((name) => {
        const p = service.config.pipelines.get(name)!;
        return { name, signal: p.signal, receivers: p.receivers, processors: p.processors, exporters: p.exporters };
      }),
    components: () =>
      [...service.config.components.values()].map((c) => ({ id: c.id, type: c.type, config: c.config })),
    configFile: () => service.config.file,
    configDocument: () => service.config.document,
    serviceSection: () => service.config.service,
    lastReload,
    ...(replicas === undefined ? {} : { replicas }),
  };
}
