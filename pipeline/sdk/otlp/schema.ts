// The OTLP v1 wire schema (common, resource, trace, logs, the collector trace/logs services and the
// google.rpc error details we answer with), written as a protobufjs JSON descriptor in TypeScript so it
// ships inside dist/ without .proto files. Field numbers and types follow opentelemetry-proto v1.

import * as protobuf from 'protobufjs';

type FieldSpec = { type: string; id: number; rule?: 'repeated' };
type MessageSpec = {
  fields: Record<string, FieldSpec>;
  oneofs?: Record<string, { oneof: string[] }>;
  reserved?: (number[] | string)[];
};
type EnumSpec = { values: Record<string, number> };

const f = (type: string, id: number): FieldSpec => ({ type, id });
const r = (type: string, id: number): FieldSpec => ({ type, id, rule: 'repeated' });

/** SCHEMA_JSON is the protobufjs JSON descriptor of everything OTLP/trace and OTLP/logs need. */
export const SCHEMA_JSON = {
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Any: { fields: { type_url: f('string', 1), value: f('bytes', 2) } } satisfies MessageSpec,
            Duration: { fields: { seconds: f('int64', 1), nanos: f('int32', 2) } } satisfies MessageSpec,
          },
        },
        rpc: {
          nested: {
            Status: {
              fields: { code: f('int32', 1), message: f('string', 2), details: r('google.protobuf.Any', 3) },
            } satisfies MessageSpec,
            RetryInfo: { fields: { retry_delay: f('google.protobuf.Duration', 1) } } satisfies MessageSpec,
          },
        },
      },
    },
    opentelemetry: {
      nested: {
        proto: {
          nested: {
            common: {
              nested: {
                v1: {
                  nested: {
                    AnyValue: {
                      oneofs: {
                        value: {
                          oneof: [
                            'string_value',
                            'bool_value',
                            'int_value',
                            'double_value',
                            'array_value',
                            'kvlist_value',
                            'bytes_value',
                          ],
                        },
                      },
                      fields: {
                        string_value: f('string', 1),
                        bool_value: f('bool', 2),
                        int_value: f('int64', 3),
                        double_value: f('double', 4),
                        array_value: f('ArrayValue', 5),
                        kvlist_value: f('KeyValueList', 6),
                        bytes_value: f('bytes', 7),
                      },
                    } satisfies MessageSpec,
                    ArrayValue: { fields: { values: r('AnyValue', 1) } } satisfies MessageSpec,
                    KeyValueList: { fields: { values: r('KeyValue', 1) } } satisfies MessageSpec,
                    KeyValue: { fields: { key: f('string', 1), value: f('AnyValue', 2) } } satisfies MessageSpec,
                    InstrumentationScope: {
                      fields: {
                        name: f('string', 1),
                        version: f('string', 2),
                        attributes: r('KeyValue', 3),
                        dropped_attributes_count: f('uint32', 4),
                      },
                    } satisfies MessageSpec,
                    EntityRef: {
                      fields: {
                        schema_url: f('string', 1),
                        type: f('string', 2),
                        id_keys: r('string', 3),
                        description_keys: r('string', 4),
                      },
                    } satisfies MessageSpec,
                  },
                },
              },
            },
            resource: {
              nested: {
                v1: {
                  nested: {
                    Resource: {
                      fields: {
                        attributes: r('opentelemetry.proto.common.v1.KeyValue', 1),
                        dropped_attributes_count: f('uint32', 2),
                        entity_refs: r('opentelemetry.proto.common.v1.EntityRef', 3),
                      },
                    } satisfies MessageSpec,
                  },
                },
              },
            },
            trace: {
              nested: {
                v1: {
                  nested: {
                    TracesData: { fields: { resource_spans: r('ResourceSpans', 1) } } satisfies MessageSpec,
                    ResourceSpans: {
                      reserved: [[1000, 1000]],
                      fields: {
                        resource: f('opentelemetry.proto.resource.v1.Resource', 1),
                        scope_spans: r('ScopeSpans', 2),
                        schema_url: f('string', 3),
                      },
                    } satisfies MessageSpec,
                    ScopeSpans: {
                      fields: {
                        scope: f('opentelemetry.proto.common.v1.InstrumentationScope', 1),
                        spans: r('Span', 2),
                        schema_url: f('string', 3),
                      },
                    } satisfies MessageSpec,
                    Span: {
                      fields: {
                        trace_id: f('bytes', 1),
                        span_id: f('bytes', 2),
                        trace_state: f('string', 3),
                        parent_span_id: f('bytes', 4),
                        flags: f('fixed32', 16),
                        name: f('string', 5),
                        kind: f('SpanKind', 6),
                        start_time_unix_nano: f('fixed64', 7),
                        end_time_unix_nano: f('fixed64', 8),
                        attributes: r('opentelemetry.proto.common.v1.KeyValue', 9),
                        dropped_attributes_count: f('uint32', 10),
                        events: r('Event', 11),
                        dropped_events_count: f('uint32', 12),
                        links: r('Link', 13),
                        dropped_links_count: f('uint32', 14),
                        status: f('Status', 15),
                      },
                      nested: {
                        SpanKind: {
                          values: {
                            SPAN_KIND_UNSPECIFIED: 0,
                            SPAN_KIND_INTERNAL: 1,
                            SPAN_KIND_SERVER: 2,
                            SPAN_KIND_CLIENT: 3,
                            SPAN_KIND_PRODUCER: 4,
                            SPAN_KIND_CONSUMER: 5,
                          },
                        } satisfies EnumSpec,
                        Event: {
                          fields: {
                            time_unix_nano: f('fixed64', 1),
                            name: f('string', 2),
                            attributes: r('opentelemetry.proto.common.v1.KeyValue', 3),
                            dropped_attributes_count: f('uint32', 4),
                          },
                        } satisfies MessageSpec,
                        Link: {
                          fields: {
                            trace_id: f('bytes', 1),
                            span_id: f('bytes', 2),
                            trace_state: f('string', 3),
                            attributes: r('opentelemetry.proto.common.v1.KeyValue', 4),
                            dropped_attributes_count: f('uint32', 5),
                            flags: f('fixed32', 6),
                          },
                        } satisfies MessageSpec,
                      },
                    },
                    Status: {
                      reserved: [[1, 1]],
                      fields: { message: f('string', 2), code: f('StatusCode', 3) },
                      nested: {
                        StatusCode: {
                          values: { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 },
                        } satisfies EnumSpec,
                      },
                    },
                    SpanFlags: {
                      values: {
                        SPAN_FLAGS_DO_NOT_USE: 0,
                        SPAN_FLAGS_TRACE_FLAGS_MASK: 0xff,
                        SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK: 0x100,
                        SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK: 0x200,
                      },
                    } satisfies EnumSpec,
                  },
                },
              },
            },
            logs: {
              nested: {
                v1: {
                  nested: {
                    LogsData: { fields: { resource_logs: r('ResourceLogs', 1) } } satisfies MessageSpec,
                    ResourceLogs: {
                      reserved: [[1000, 1000]],
                      fields: {
                        resource: f('opentelemetry.proto.resource.v1.Resource', 1),
                        scope_logs: r('ScopeLogs', 2),
                        schema_url: f('string', 3),
                      },
                    } satisfies MessageSpec,
                    ScopeLogs: {
                      fields: {
                        scope: f('opentelemetry.proto.common.v1.InstrumentationScope', 1),
                        log_records: r('LogRecord', 2),
                        schema_url: f('string', 3),
                      },
                    } satisfies MessageSpec,
                    SeverityNumber: { values: severityValues() } satisfies EnumSpec,
                    LogRecordFlags: {
                      values: { LOG_RECORD_FLAGS_DO_NOT_USE: 0, LOG_RECORD_FLAGS_TRACE_FLAGS_MASK: 0xff },
                    } satisfies EnumSpec,
                    LogRecord: {
                      reserved: [[4, 4]],
                      fields: {
                        time_unix_nano: f('fixed64', 1),
                        observed_time_unix_nano: f('fixed64', 11),
                        severity_number: f('SeverityNumber', 2),
                        severity_text: f('string', 3),
                        body: f('opentelemetry.proto.common.v1.AnyValue', 5),
                        attributes: r('opentelemetry.proto.common.v1.KeyValue', 6),
                        dropped_attributes_count: f('uint32', 7),
                        flags: f('fixed32', 8),
                        trace_id: f('bytes', 9),
                        span_id: f('bytes', 10),
                        event_name: f('string', 12),
                      },
                    } satisfies MessageSpec,
                  },
                },
              },
            },
            collector: {
              nested: {
                trace: {
                  nested: {
                    v1: {
                      nested: {
                        TraceService: {
                          methods: {
                            Export: {
                              requestType: 'ExportTraceServiceRequest',
                              responseType: 'ExportTraceServiceResponse',
                            },
                          },
                        },
                        ExportTraceServiceRequest: {
                          fields: { resource_spans: r('opentelemetry.proto.trace.v1.ResourceSpans', 1) },
                        } satisfies MessageSpec,
                        ExportTraceServiceResponse: {
                          fields: { partial_success: f('ExportTracePartialSuccess', 1) },
                        } satisfies MessageSpec,
                        ExportTracePartialSuccess: {
                          fields: { rejected_spans: f('int64', 1), error_message: f('string', 2) },
                        } satisfies MessageSpec,
                      },
                    },
                  },
                },
                logs: {
                  nested: {
                    v1: {
                      nested: {
                        LogsService: {
                          methods: {
                            Export: {
                              requestType: 'ExportLogsServiceRequest',
                              responseType: 'ExportLogsServiceResponse',
                            },
                          },
                        },
                        ExportLogsServiceRequest: {
                          fields: { resource_logs: r('opentelemetry.proto.logs.v1.ResourceLogs', 1) },
                        } satisfies MessageSpec,
                        ExportLogsServiceResponse: {
                          fields: { partial_success: f('ExportLogsPartialSuccess', 1) },
                        } satisfies MessageSpec,
                        ExportLogsPartialSuccess: {
                          fields: { rejected_log_records: f('int64', 1), error_message: f('string', 2) },
                        } satisfies MessageSpec,
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

function severityValues(): Record<string, number> {
  const values: Record<string, number> = { SEVERITY_NUMBER_UNSPECIFIED: 0 };
  const levels = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
  levels.forEach((level, i) => {
    for (let k = 0; k < 4; k++) values[`SEVERITY_NUMBER_${level}${k === 0 ? '' : k + 1}`] = i * 4 + k + 1;
  });
  return values;
}

/** Fully-qualified gRPC method paths of the two OTLP export services. */
export const TRACE_SERVICE_EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
export const LOGS_SERVICE_EXPORT_PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

/** OtlpTypes holds the resolved protobufjs types of the schema. */
export interface OtlpTypes {
  readonly root: protobuf.Root;
  readonly AnyValue: protobuf.Type;
  readonly KeyValue: protobuf.Type;
  readonly InstrumentationScope: protobuf.Type;
  readonly Resource: protobuf.Type;
  readonly TracesData: protobuf.Type;
  readonly ResourceSpans: protobuf.Type;
  readonly ScopeSpans: protobuf.Type;
  readonly Span: protobuf.Type;
  readonly Status: protobuf.Type;
  readonly LogsData: protobuf.Type;
  readonly ResourceLogs: protobuf.Type;
  readonly ScopeLogs: protobuf.Type;
  readonly LogRecord: protobuf.Type;
  readonly ExportTraceServiceRequest: protobuf.Type;
  readonly ExportTraceServiceResponse: protobuf.Type;
  readonly ExportLogsServiceRequest: protobuf.Type;
  readonly ExportLogsServiceResponse: protobuf.Type;
  readonly RpcStatus: protobuf.Type;
  readonly RetryInfo: protobuf.Type;
}

let cached: OtlpTypes | undefined;

/**
 * otlpTypes returns the protobufjs types of the OTLP schema, built on first use and shared afterwards
 * (the types are immutable once resolved; building them costs a few milliseconds).
 */
export function otlpTypes(): OtlpTypes {
  if (cached) return cached;
  const root = protobuf.Root.fromJSON(SCHEMA_JSON as unknown as protobuf.INamespace);
  root.resolveAll();
  const t = (name: string) => root.lookupType(name);
  cached = Object.freeze({
    root,
    AnyValue: t('opentelemetry.proto.common.v1.AnyValue'),
    KeyValue: t('opentelemetry.proto.common.v1.KeyValue'),
    InstrumentationScope: t('opentelemetry.proto.common.v1.InstrumentationScope'),
    Resource: t('opentelemetry.proto.resource.v1.Resource'),
    TracesData: t('opentelemetry.proto.trace.v1.TracesData'),
    ResourceSpans: t('opentelemetry.proto.trace.v1.ResourceSpans'),
    ScopeSpans: t('opentelemetry.proto.trace.v1.ScopeSpans'),
    Span: t('opentelemetry.proto.trace.v1.Span'),
    Status: t('opentelemetry.proto.trace.v1.Status'),
    LogsData: t('opentelemetry.proto.logs.v1.LogsData'),
    ResourceLogs: t('opentelemetry.proto.logs.v1.ResourceLogs'),
    ScopeLogs: t('opentelemetry.proto.logs.v1.ScopeLogs'),
    LogRecord: t('opentelemetry.proto.logs.v1.LogRecord'),
    ExportTraceServiceRequest: t('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
    ExportTraceServiceResponse: t('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
    ExportLogsServiceRequest: t('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
    ExportLogsServiceResponse: t('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse'),
    RpcStatus: t('google.rpc.Status'),
    RetryInfo: t('google.rpc.RetryInfo'),
  });
  return cached;
}
