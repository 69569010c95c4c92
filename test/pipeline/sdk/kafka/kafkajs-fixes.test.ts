// kafkajs-fixes: RequestQueue no longer re-arms a timer forever once a request was checked with nothing
// pending, and still schedules checks for pending requests (throttled, or waiting for an in-flight slot).

import { expect } from 'chai';
import { installKafkajsFixes } from '../../../../pipeline/sdk/kafka/kafkajs-fixes';

/* eslint-disable @typescript-eslint/no-require-imports */
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
