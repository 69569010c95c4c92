// Unit tests of the managed producer over a fake kafkajs client: kafkajs never retries a send itself
// (retries 0), a failed attempt is retried whole on a fresh producer, a non-retriable error is not retried,
// and the number of retries is bounded.

import { expect } from 'chai';
import { CompressionTypes, type Kafka, type ProducerConfig, type TopicMessages } from 'kafkajs';
import pino from 'pino';
import { isRetriableSendError, ManagedProducer } from '../../../../pipeline/sdk/kafka/producer';
import { partitionerFor } from '../../../../pipeline/sdk/kafka/partitioners';

type Outcome = 'ok' | Error;

class FakeKafka {
  readonly configs: ProducerConfig[] = [];
  readonly sends: Array<{ producer: number; topicMessages: TopicMessages[] }> = [];
  constructor(readonly outcomes: Outcome[]) {}

  producer(config: ProducerConfig) {
    const id = this.configs.push(config);
    return {
      connect: async () => undefined,
      disconnect: async () => undefined,
      sendBatch: async ({ topicMessages }: { topicMessages: TopicMessages[] }) => {
        this.sends.push({ producer: id, topicMessages });
        const outcome = this.outcomes.shift() ?? 'ok';
        if (outcome !== 'ok') throw outcome;
        return [];
      },
    };
  }
}

function kafkajsError(name: string, retriable: boolean): Error {
  return Object.assign(new Error(`${name}: broker went away`), { name, retriable });
}

const MESSAGES: TopicMessages[] = [
  {
    topic: 'spans',
    messages: [
      { key: 'a', value: 'x' },
      { key: 'b', value: 'y' },
    ],
  },
];

function managed(fake: FakeKafka, retries = 3): ManagedProducer {
  return new ManagedProducer(
    fake as unknown as Kafka,
    {
      createPartitioner: partitionerFor('murmur2'),
      retry: { initialRetryTime: 1, maxRetryTime: 2, retries },
      ackTimeoutMs: 1000,
      compression: CompressionTypes.None,
    },
    pino({ level: 'silent' }),
  );
}

describe('pipeline/sdk/kafka/producer', () => {
  it('lets kafkajs make one attempt per send, and retries a failed send whole on a fresh producer', async () => {
    const fake = new FakeKafka([kafkajsError('KafkaJSNumberOfRetriesExceeded', false), 'ok']);
    await managed(fake).send(MESSAGES);
    expect(fake.configs.map((c) => c.retry?.retries)).to.deep.equal([0, 0]);
    expect(fake.configs.every((c) => c.idempotent === false && c.maxInFlightRequests === 1)).to.equal(true);
    expect(fake.sends.map((s) => s.producer)).to.deep.equal([1, 2]);
    expect(fake.sends[1].topicMessages).to.deep.equal(MESSAGES);
  });

  it('does not retry a non-retriable failure, and bounds the retries of retriable ones', async () => {
    const tooLarge = kafkajsError('KafkaJSNonRetriableError', false);
    const once = new FakeKafka([tooLarge]);
    expect(
      await managed(once)
        .send(MESSAGES)
        .catch((e: unknown) => e),
    ).to.equal(tooLarge);
    expect(once.sends).to.have.length(1);

    const down = () => kafkajsError('KafkaJSNumberOfRetriesExceeded', false);
    const always = new FakeKafka([down(), down(), down(), down(), down()]);
    const err = await managed(always, 2)
      .send(MESSAGES)
      .catch((e: unknown) => e);
    expect((err as Error).name).to.equal('KafkaJSNumberOfRetriesExceeded');
    expect(always.sends).to.have.length(3);
  });

  it('classifies kafkajs errors', () => {
    expect(isRetriableSendError(kafkajsError('KafkaJSNumberOfRetriesExceeded', false))).to.equal(true);
    expect(isRetriableSendError(kafkajsError('KafkaJSNonRetriableError', false))).to.equal(false);
    expect(isRetriableSendError(kafkajsError('KafkaJSConnectionError', true))).to.equal(true);
    expect(isRetriableSendError('nope')).to.equal(false);
  });
});
