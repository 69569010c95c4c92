// kafkajs-fixes: RequestQueue no longer re-arms a timer forever once a request was checked with nothing
// pending, and still schedules checks for pending requests (throttled, or waiting for an in-flight slot); request
// timeouts are checked at most once a second;
// a consumer group's fetch rides out an unreachable broker instead of failing.

import { expect } from 'chai';
import {
  installKafkajsFixes,
  recoverFromFetchWith,
  type ConsumerGroupLike,
} from '../../../../pipeline/sdk/kafka/kafkajs-fixes';

/* eslint-disable @typescript-eslint/no-require-imports */
const { KafkaJSConnectionError, KafkaJSConnectionClosedError } = require('kafkajs') as {
  KafkaJSConnectionError: new (m: string, o?: object) => Error;
  KafkaJSConnectionClosedError: new (m: string, o?: object) => Error;
};
const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup') as {
  prototype: { recoverFromFetch: unknown };
};
const RequestQueue = require('kafkajs/src/network/requestQueue') as new (o: object) => {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  destroy(): void;
};
/* eslint-enable @typescript-eslint/no-require-imports */

const silent = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  namespace() {
    return silent;
  },
};

function newQueue() {
  return new RequestQueue({
    maxInFlightRequests: 1,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 't',
    broker: 'b',
    logger: silent,
  });
}

describe('pipeline/sdk/kafka/kafkajs-fixes', () => {
  before(() => expect(installKafkajsFixes().applied).to.equal(true));

  it('checking an empty queue arms no timer (kafkajs 2.2.4 re-armed one every millisecond)', async () => {
    const q = newQueue();
    let checks = 0;
    const original = q.checkPendingRequests.bind(q);
    q.checkPendingRequests = () => {
      checks++;
      original();
    };
    q.checkPendingRequests();
    expect(q.throttleCheckTimeoutId).to.equal(null);
    await new Promise((r) => setTimeout(r, 50));
    expect(checks, 'no further checks by timer').to.equal(1);
    q.destroy();
  });

  it('a pending request under a throttle is checked when the throttle ends', async () => {
    const q = newQueue();
    q.throttledUntil = Date.now() + 40;
    q.pending.push({ fake: true });
    let checkedAt = 0;
    const started = Date.now();
    q.checkPendingRequests = () => {
      checkedAt = Date.now();
    };
    (q as unknown as { scheduleCheckPendingRequests(): void }).scheduleCheckPendingRequests();
    expect(q.throttleCheckTimeoutId).to.not.equal(null);
    await new Promise((r) => setTimeout(r, 120));
    expect(checkedAt - started).to.be.within(35, 110);
    q.destroy();
  });

  it('checks in-flight requests for their timeout once a second at most, not every 100 ms', async () => {
    // A request timeout of 300 ms makes the interval 300 ms (the smaller of it and a second).
    const q = new RequestQueue({
      maxInFlightRequests: 1,
      requestTimeout: 300,
      enforceRequestTimeout: true,
      clientId: 't',
      broker: 'b',
      logger: silent,
      isConnected: () => true,
    }) as unknown as {
      inflight: Map<number, { sentAt: number; requestTimeout: number; timeoutRequest(): void }>;
      scheduleRequestTimeoutCheck(): void;
      destroy(): void;
    };
    let timedOutAt = 0;
    const started = Date.now();
    q.inflight.set(1, { sentAt: started - 1000, requestTimeout: 300, timeoutRequest: () => (timedOutAt = Date.now()) });
    q.scheduleRequestTimeoutCheck();
    await new Promise((r) => setTimeout(r, 200));
    expect(timedOutAt, 'kafkajs would have checked at 100 ms').to.equal(0);
    await new Promise((r) => setTimeout(r, 250));
    expect(timedOutAt - started).to.be.within(250, 450);
    q.destroy();
  });

  it('a pending request without a throttle is re-checked after 10 ms', async () => {
    const q = newQueue();
    q.pending.push({ fake: true });
    let checks = 0;
    q.checkPendingRequests = () => {
      checks++;
    };
    (q as unknown as { scheduleCheckPendingRequests(): void }).scheduleCheckPendingRequests();
    await new Promise((r) => setTimeout(r, 60));
    expect(checks).to.equal(1);
    q.destroy();
  });
});

/** A consumer group stand-in that records the calls the fixes make. */
function fakeGroup() {
  const calls: string[] = [];
  const group: ConsumerGroupLike = {
    groupId: 'g',
    logger: { error: () => calls.push('error') },
    cluster: {
      refreshMetadata: async () => {
        calls.push('refreshMetadata');
      },
    },
  };
  return { group, calls };
}

describe('pipeline/sdk/kafka/kafkajs-fixes: consumer group and unreachable brokers', () => {
  it('is installed on kafkajs ConsumerGroup', () => {
    installKafkajsFixes();
    expect(ConsumerGroup.prototype.recoverFromFetch).to.have.property('name', 'recoverFromFetch');
  });

  it('a fetch that cannot connect refreshes metadata after the pause and ends empty', async () => {
    const { group, calls } = fakeGroup();
    const original = async () => {
      calls.push('original');
    };
    const started = Date.now();
    await recoverFromFetchWith(original, 30).call(group, new KafkaJSConnectionError('connect ECONNREFUSED'));
    expect(Date.now() - started).to.be.at.least(25);
    expect(calls).to.deep.equal(['error', 'refreshMetadata']);
  });

  it('any other fetch error goes to kafkajs (a closed connection included)', async () => {
    const { group, calls } = fakeGroup();
    const boom = new Error('other');
    const original = async (e: unknown) => {
      calls.push(`original ${(e as Error).name}`);
      if (e === boom) throw boom;
    };
    const recover = recoverFromFetchWith(original, 0);
    await recover.call(group, new KafkaJSConnectionClosedError('closed'));
    let thrown: unknown;
    await recover.call(group, boom).catch((e: unknown) => (thrown = e));
    expect(thrown).to.equal(boom);
    expect(calls).to.deep.equal(['original KafkaJSConnectionClosedError', 'original Error']);
  });
});
