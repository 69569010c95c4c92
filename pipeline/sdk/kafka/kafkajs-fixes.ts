// Fixes for known kafkajs 2.2.4 defects that cost this project CPU, applied to its classes at start.
//
// Idle timer loop (kafkajs issues #1556, #1604, #1704; fix proposed in pull request #1667, unreleased):
// RequestQueue#checkPendingRequests always ends by calling scheduleCheckPendingRequests, which, with no
// request pending and no throttling, computes a negative delay and sets a timer anyway. The timer calls
// checkPendingRequests again: every broker connection that ever queued a request wakes the event loop
// about a thousand times a second for nothing (measured here: 1,700 epoll wake-ups/s and 4-5% of a core
// in an idle sampler). The replacement schedules a check only while requests are pending: at the end of
// a broker throttle, or after the same 10 ms kafkajs uses when requests wait for an in-flight slot.
// Requests that arrive later schedule their own check when they are queued (RequestQueue#push).

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

/** The slice of kafkajs' RequestQueue the fix reads and writes. */
interface RequestQueueLike {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
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
    prototype: RequestQueueLike & { [APPLIED]?: true };
  };
  if (!RequestQueue.prototype[APPLIED]) {
    RequestQueue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
    RequestQueue.prototype[APPLIED] = true;
  }
  status = { applied: true };
  return status;
}
