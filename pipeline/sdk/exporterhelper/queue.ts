// Bounded in-memory sending queue shared by the exporters: at most `numConsumers` tasks run at once,
// at most `maxItems` tasks / `maxBytes` bytes wait; a full queue rejects with BackpressureError instead of
// dropping. Every submitted task's promise settles with the task's own outcome (the settle chain).

import { BackpressureError, ShutdownError } from '../errors';

/** SendingQueueOptions bound the queue. */
export interface SendingQueueOptions {
  /** Component id, used in error messages. */
  readonly component: string;
  /** Tasks running at once (>= 1). */
  readonly numConsumers: number;
  /** Tasks that may wait; 0 = no count limit. */
  readonly maxItems: number;
  /** Bytes that may wait; 0 = no byte limit. */
  readonly maxBytes: number;
  /** Suggested delay (ms) put on BackpressureError. */
  readonly retryAfterMs: number;
  /** Called whenever the number of waiting tasks or bytes changes. */
  readonly onChange?: (waiting: number, waitingBytes: number) => void;
}

interface Pending {
  readonly bytes: number;
  readonly run: () => Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * SendingQueue runs submitted tasks with bounded concurrency and a bounded waiting room.
 * `submit` rejects at once with BackpressureError when the waiting room is full and with ShutdownError
 * once `close` was called. `drain` waits for everything accepted, up to a deadline.
 */
export class SendingQueue {
  private readonly _waiting: Pending[] = [];
  private _waitingBytes = 0;
  private _running = 0;
  private _closed = false;
  private readonly _idleWaiters: Array<() => void> = [];

  constructor(private readonly _opts: SendingQueueOptions) {}

  /** Number of tasks waiting (not running). */
  get waiting(): number {
    return this._waiting.length;
  }

  /** Bytes of the waiting tasks. */
  get waitingBytes(): number {
    return this._waitingBytes;
  }

  /** Number of tasks running now. */
  get running(): number {
    return this._running;
  }

  /** submit accepts a task of `bytes` bytes; the promise settles with the task's outcome. */
  submit(bytes: number, run: () => Promise<void>): Promise<void> {
    if (this._closed) return Promise.reject(new ShutdownError(this._opts.component));
    if (this._running < this._opts.numConsumers && this._waiting.length === 0) {
      return this._start(run);
    }
    const { maxItems, maxBytes } = this._opts;
    const overCount = maxItems > 0 && this._waiting.length >= maxItems;
    // A single task larger than maxBytes is still accepted into an empty waiting room (else it could never pass).
    const overBytes = maxBytes > 0 && this._waiting.length > 0 && this._waitingBytes + bytes > maxBytes;
    if (overCount || overBytes) {
      return Promise.reject(
        new BackpressureError(
          `${this._opts.component}: sending queue full (${this._waiting.length} batches, ${this._waitingBytes} bytes waiting; ` +
            `limits ${maxItems || 'none'} batches, ${maxBytes || 'none'} bytes)`,
          this._opts.retryAfterMs,
          { component: this._opts.component },
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this._waiting.push({ bytes, run, resolve, reject });
      this._waitingBytes += bytes;
      this._changed();
    });
  }

  /** close stops accepting new tasks; accepted ones keep going. Idempotent. */
  close(): void {
    this._closed = true;
  }

  /**
   * drain closes the queue and waits until nothing waits or runs, or until `timeoutMs` passes. On timeout
   * the still-waiting tasks are rejected with ShutdownError (retriable) and the number of tasks not finished
   * (waiting + running) is returned; 0 means everything finished.
   */
  async drain(timeoutMs: number): Promise<number> {
    this.close();
    if (this._idle()) return 0;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this._idleWaiters.push(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const finished = await Promise.race([idle, timeout]);
    clearTimeout(timer);
    if (finished) return 0;
    const left = this._waiting.length + this._running;
    for (const p of this._waiting.splice(0)) p.reject(new ShutdownError(this._opts.component));
    this._waitingBytes = 0;
    this._changed();
    return left;
  }

  private _start(run: () => Promise<void>): Promise<void> {
    this._running++;
    let p: Promise<void>;
    try {
      p = run();
    } catch (err) {
      p = Promise.reject(err);
    }
    return p.finally(() => {
      this._running--;
      this._next();
    });
  }

  private _next(): void {
    while (this._running < this._opts.numConsumers && this._waiting.length > 0) {
      const p = this._waiting.shift()!;
      this._waitingBytes -= p.bytes;
      this._changed();
      this._start(p.run).then(p.resolve, p.reject);
    }
    if (this._idle()) for (const w of this._idleWaiters.splice(0)) w();
  }

  private _idle(): boolean {
    return this._running === 0 && this._waiting.length === 0;
  }

  private _changed(): void {
    this._opts.onChange?.(this._waiting.length, this._waitingBytes);
  }
}
