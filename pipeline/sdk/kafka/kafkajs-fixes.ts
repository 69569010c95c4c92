// Fixes for known kafkajs 2.2.4 defects that cost this project CPU or stop its consumers, applied to its classes
// at start.
//
// Idle timer loop (kafkajs issues #1556, #1604, #1704; fix proposed in pull request #1667, unreleased):
// RequestQueue#checkPendingRequests always ends by calling scheduleCheckPendingRequests, which, with no
// request pending and no throttling, computes a negative delay and sets a timer anyway. The timer calls
// checkPendingRequests again: every broker connection that ever queued a request wakes the event loop
// about a thousand times a second for nothing (measured here: 1,700 epoll wake-ups/s and 4-5% of a core
// in an idle sampler). The replacement schedules a check only while requests are pending: at the end of
// a broker throttle, or after the same 10 ms kafkajs uses when requests wait for an in-flight slot.
// Requests that arrive later schedule their own check when they are queued (RequestQueue#push).
//
// Request timeout checks (kafkajs 2.2.4): every connection checks its in-flight requests for a timeout every
// 100 ms (the smaller of the request timeout and 100 ms), busy or idle: 10 wake-ups a second per broker
// connection. The replacement checks every second (REQUEST_TIMEOUT_CHECK_MS, or the request timeout when it is
// shorter), so a request that timed out is failed at most a second after its timeout (30 s by default), not 0.1 s.
//
// Consumer crash when a broker dies (kafkajs issues #852, #1439): BrokerPool#connectBroker gives up at once on
// a connection error (ECONNREFUSED, connect timeout) "to refresh metadata on a higher level", but
// ConsumerGroup#recoverFromFetch, that level, rethrows it (it only handles a closed connection and an unknown
// broker). The runner then retries the whole fetch on the same stale metadata (5 times, ~10 s) and crashes the
// consumer, which restarts after another retry time and rejoins the group: every partition of every member stops
// (~25 s in the rehearsal cluster's broker kill), not only the dead leader's. The replacement treats a connection
// error like an unknown broker: it waits a moment, refreshes the metadata and returns an empty fetch, so the dead
// broker's fetcher idles until the controller has moved its partitions (the fetchers are then rebuilt) while the
// other brokers' fetchers go on. (A dead group coordinator needs no fix: the coordinator errors of commits and
// heartbeats make kafkajs look it up again, with fresh metadata.)

/**
 * The kafkajs release whose internals this module and produce-encoding.ts patch; on any other they leave
 * kafkajs as it is.
 */
export const KAFKAJS_PATCHED_VERSION = '2.2.4';

/** installedKafkajsVersion reads the version of the kafkajs package in use (undefined if unreadable). */
export function installedKafkajsVersion(): string | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('kafkajs/package.json') as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** kafkajs' interval for re-checking requests that wait for an in-flight slot (ms). */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;

/** Longest interval between two request timeout checks of a connection (ms); kafkajs uses 100. */
export const REQUEST_TIMEOUT_CHECK_MS = 1000;

/** The slice of kafkajs' RequestQueue the fixes read and write. */
interface RequestQueueLike {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** The slice of kafkajs' RequestQueue the request timeout check reads and writes. */
export interface TimeoutCheckQueueLike {
  enforceRequestTimeout: boolean;
  requestTimeout: number;
  requestTimeoutIntervalId: NodeJS.Timeout | null;
  inflight: Map<unknown, { sentAt: number; requestTimeout: number; timeoutRequest(): void }>;
  isConnected(): boolean;
  destroy(): void;
}

/** How long a fetch from an unreachable broker waits before the metadata is read again (ms). */
export const UNREACHABLE_BROKER_PAUSE_MS = 1000;

/** The slice of kafkajs' ConsumerGroup the fixes read and call. */
export interface ConsumerGroupLike {
  groupId: string;
  logger: { error(message: string, extra?: object): void };
  cluster: { refreshMetadata(): Promise<void> };
}

/** isUnreachableBroker: kafkajs could not connect to a broker (not a closed connection, which it handles). */
function isUnreachableBroker(e: unknown): e is Error {
  return e instanceof Error && e.name === 'KafkaJSConnectionError';
}

/**
 * recoverFromFetchWith wraps ConsumerGroup#recoverFromFetch: a connection error refreshes the metadata after
 * `pauseMs` and ends the fetch empty (see the header); any other error goes to `original`.
 */
export function recoverFromFetchWith(
  original: (this: ConsumerGroupLike, e: unknown) => Promise<void>,
  pauseMs = UNREACHABLE_BROKER_PAUSE_MS,
): (this: ConsumerGroupLike, e: unknown) => Promise<void> {
  return async function recoverFromFetch(this: ConsumerGroupLike, e: unknown): Promise<void> {
    if (!isUnreachableBroker(e)) return original.call(this, e);
    this.logger.error(`${e.message}: broker unreachable, refreshing metadata and fetching again`, {
      groupId: this.groupId,
    });
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    await this.cluster.refreshMetadata().catch(() => undefined);
  };
}

const APPLIED = Symbol.for('tusk-collector.kafkajs-fixes');

/** What installKafkajsFixes did. */
export interface KafkajsFixesStatus {
  readonly applied: boolean;
  readonly reason?: string;
}

let status: KafkajsFixesStatus | undefined;

/** scheduleCheckPendingRequests is RequestQueue's scheduler without the idle loop (see the header). */
export function scheduleCheckPendingRequests(this: RequestQueueLike): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    untilUnthrottled > 0 ? untilUnthrottled : CHECK_PENDING_REQUESTS_INTERVAL_MS,
  );
}

/**
 * scheduleRequestTimeoutCheck is RequestQueue's request timeout check at most once per REQUEST_TIMEOUT_CHECK_MS
 * (see the header); what a check does is kafkajs' own.
 */
export function scheduleRequestTimeoutCheck(this: TimeoutCheckQueueLike): void {
  if (!this.enforceRequestTimeout) return;
  this.destroy();
  this.requestTimeoutIntervalId = setInterval(
    () => {
      const now = Date.now();
      this.inflight.forEach((request) => {
        if (now - request.sentAt > request.requestTimeout) request.timeoutRequest();
      });
      if (!this.isConnected()) this.destroy();
    },
    Math.min(this.requestTimeout, REQUEST_TIMEOUT_CHECK_MS),
  );
}

/** installKafkajsFixes applies the fixes once per process (idempotent). */
export function installKafkajsFixes(): KafkajsFixesStatus {
  if (status) return status;
  const version = installedKafkajsVersion();
  if (version !== KAFKAJS_PATCHED_VERSION) {
    status = { applied: false, reason: `kafkajs ${version ?? '(unknown)'} is not ${KAFKAJS_PATCHED_VERSION}` };
    return status;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RequestQueue = require('kafkajs/src/network/requestQueue') as {
    prototype: RequestQueueLike & { scheduleRequestTimeoutCheck(): void; [APPLIED]?: true };
  };
  if (!RequestQueue.prototype[APPLIED]) {
    RequestQueue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
    RequestQueue.prototype.scheduleRequestTimeoutCheck = scheduleRequestTimeoutCheck as () => void;
    RequestQueue.prototype[APPLIED] = true;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup') as {
    prototype: {
      recoverFromFetch: (this: ConsumerGroupLike, e: unknown) => Promise<void>;
      [APPLIED]?: true;
    };
  };
  if (!ConsumerGroup.prototype[APPLIED]) {
    ConsumerGroup.prototype.recoverFromFetch = recoverFromFetchWith(ConsumerGroup.prototype.recoverFromFetch);
    ConsumerGroup.prototype[APPLIED] = true;
  }
  status = { applied: true };
  return status;
}
