// Error codes of the Kafka area and the mapping of kafkajs failures onto them: data the broker refuses
// for what it is (too large, corrupt) is permanent; everything else (broker down, leader moving, timeouts,
// retries exhausted, even authorization trouble an operator can fix) is retriable, so nothing is
// acknowledged that Kafka did not take and nothing retriable is thrown away.

import { PermanentError, PipelineError } from '../errors';

/** Error codes raised by the Kafka receiver, exporter and dead-letter writer (one list for the whole area). */
export const KafkaErrorCode = {
  /** Kafka did not acknowledge a produce request (retriable). */
  PRODUCE: 'ERR_KAFKA_PRODUCE',
  /** produce_timeout passed before Kafka acknowledged (retriable; the send may still land: at-least-once). */
  PRODUCE_TIMEOUT: 'ERR_KAFKA_PRODUCE_TIMEOUT',
  /** A message cannot fit the broker's size limit, even after splitting the trace by spans (permanent). */
  MESSAGE_TOO_LARGE: 'ERR_KAFKA_MESSAGE_TOO_LARGE',
  /** The broker refused the records themselves (corrupt / invalid record) (permanent). */
  REJECTED: 'ERR_KAFKA_REJECTED',
  /** Kafka did not acknowledge a dead letter, or its topic is missing (retriable: the caller keeps the data). */
  DEAD_LETTER: 'ERR_KAFKA_DEAD_LETTER',
  /** A consumed message is not a valid OTLP payload of its topic (permanent: skipped or dead-lettered). */
  POISON_MESSAGE: 'ERR_KAFKA_POISON_MESSAGE',
  /** A component setting cannot work with the pipeline it is in (raised at create, permanent). */
  CONFIG: 'ERR_KAFKA_CONFIG',
  /** The consumer crashed and kafkajs will not restart it (reported to the host as fatal). */
  CONSUMER_CRASH: 'ERR_KAFKA_CONSUMER_CRASH',
} as const;

/** The kafkajs protocol error types that concern the records themselves: retrying the same data cannot help. */
const PERMANENT_PROTOCOL_TYPES = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_REQUIRED_ACKS',
]);

/** KafkaErrorDetails are the structured fields of a Kafka error. */
export interface KafkaErrorDetails {
  readonly topic?: string;
  /** The kafkajs error name of the root cause (e.g. KafkaJSConnectionError). */
  readonly kafkajsName?: string;
  /** The Kafka protocol error type of the root cause (e.g. NOT_LEADER_OR_FOLLOWER), when there is one. */
  readonly protocolType?: string;
}

/** KafkaError is a retriable Kafka failure with the topic and the root kafkajs error. */
export class KafkaError extends PipelineError {
  readonly topic?: string;
  readonly kafkajsName?: string;
  readonly protocolType?: string;

  constructor(
    code: string,
    message: string,
    details: KafkaErrorDetails & { cause?: unknown; component?: string } = {},
  ) {
    super(code, message, { cause: details.cause, component: details.component, retriable: true });
    this.name = 'KafkaError';
    this.topic = details.topic;
    this.kafkajsName = details.kafkajsName;
    this.protocolType = details.protocolType;
  }
}

/** KafkaPermanentError is a Kafka failure that retrying the same data cannot fix. */
export class KafkaPermanentError extends PermanentError {
  readonly topic?: string;
  readonly kafkajsName?: string;
  readonly protocolType?: string;

  constructor(
    code: string,
    message: string,
    details: KafkaErrorDetails & { cause?: unknown; component?: string } = {},
  ) {
    super(code, message, { cause: details.cause, component: details.component });
    this.name = 'KafkaPermanentError';
    this.topic = details.topic;
    this.kafkajsName = details.kafkajsName;
    this.protocolType = details.protocolType;
  }
}

interface KafkaJsLike {
  name?: unknown;
  type?: unknown;
  message?: unknown;
  cause?: unknown;
}

/** rootKafkaCause follows kafkajs `cause` links (retries exceeded -> the last real failure). */
export function rootKafkaCause(err: unknown): KafkaJsLike {
  let e = err as KafkaJsLike;
  for (let depth = 0; depth < 10 && e && typeof e === 'object' && e.cause && typeof e.cause === 'object'; depth++) {
    e = e.cause as KafkaJsLike;
  }
  return e ?? {};
}

/** protocolTypeOf is the Kafka protocol error type found anywhere in the cause chain, if any. */
export function protocolTypeOf(err: unknown): string | undefined {
  let e = err as KafkaJsLike | undefined;
  for (let depth = 0; depth < 10 && e && typeof e === 'object'; depth++) {
    if (typeof e.type === 'string') return e.type;
    e = e.cause as KafkaJsLike | undefined;
  }
  return undefined;
}

/**
 * mapProduceError classifies a failed kafkajs send: MESSAGE_TOO_LARGE / RECORD_LIST_TOO_LARGE ->
 * KafkaPermanentError(ERR_KAFKA_MESSAGE_TOO_LARGE); INVALID_RECORD / CORRUPT_MESSAGE ->
 * KafkaPermanentError(ERR_KAFKA_REJECTED); anything else -> retriable KafkaError(ERR_KAFKA_PRODUCE).
 * PipelineErrors pass through unchanged.
 */
export function mapProduceError(err: unknown, topic: string, component?: string): PipelineError {
  if (err instanceof PipelineError) return err;
  const root = rootKafkaCause(err);
  const protocolType = protocolTypeOf(err);
  const kafkajsName = typeof root.name === 'string' ? root.name : undefined;
  const text = err instanceof Error ? err.message : String(err);
  const details = { topic, kafkajsName, protocolType, cause: err, component };
  if (protocolType !== undefined && PERMANENT_PROTOCOL_TYPES.has(protocolType)) {
    const tooLarge = protocolType === 'MESSAGE_TOO_LARGE' || protocolType === 'RECORD_LIST_TOO_LARGE';
    return new KafkaPermanentError(
      tooLarge ? KafkaErrorCode.MESSAGE_TOO_LARGE : KafkaErrorCode.REJECTED,
      `Kafka refused the records for topic ${topic} (${protocolType}): ${text}`,
      details,
    );
  }
  return new KafkaError(
    KafkaErrorCode.PRODUCE,
    `Kafka did not acknowledge the records for topic ${topic}: ${text}`,
    details,
  );
}
