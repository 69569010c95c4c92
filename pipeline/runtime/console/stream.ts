// The console's push stream of decisions: GET /v1/decisions/stream?outcome=&policy=&backlog= answers
// Server-Sent Events. The first event holds the recent matching decisions, then one event per decided batch
// (pushed by the samplers' subscribeDecisions hook, nothing polls). Each client's buffer is bounded: while a
// slow client's socket holds more than `maxBufferedBytes`, its batches are dropped and counted, and it is told
// how many (`event: dropped`). Streams are limited in number (503 with the reason past the limit); a client
// that goes away is unsubscribed at once.

import type http from 'node:http';
import type { DecisionSummary, InsightsProvider } from '../../sdk/insights';
import { ConsoleError } from './errors';

/** Options of the decision stream. */
export interface DecisionStreamOptions {
  /** Most streams open at once; more are refused with 503. Default 8. */
  readonly maxStreams?: number;
  /** Bytes a client's socket may hold unsent before its batches are dropped. Default 256 KiB. */
  readonly maxBufferedBytes?: number;
  /** Period of the keep-alive comment, ms. Default 15000. */
  readonly heartbeatMs?: number;
}

export const DEFAULT_MAX_STREAMS = 8;
export const DEFAULT_MAX_STREAM_BUFFER = 256 * 1024;
export const DEFAULT_STREAM_HEARTBEAT_MS = 15_000;
const MAX_BACKLOG = 1000;
const MAX_POLICY_LENGTH = 200;

/** StreamFilter is what a client asked for. */
export interface StreamFilter {
  readonly outcome?: 'sampled' | 'not_sampled';
  readonly policy?: string;
  /** Recent decisions sent first (0..1000). */
  readonly backlog: number;
}

/** parseStreamFilter checks the query; a bad parameter is a 400 that says what is expected. */
export function parseStreamFilter(q: URLSearchParams): StreamFilter {
  const known = new Set(['outcome', 'policy', 'backlog']);
  for (const k of q.keys()) {
    if (!known.has(k))
      throw new ConsoleError(
        400,
        'ERR_CONSOLE_BAD_PARAM',
        `unknown parameter "${k}"; expected outcome, policy, backlog`,
      );
  }
  const outcome = q.get('outcome') ?? '';
  if (outcome !== '' && outcome !== 'sampled' && outcome !== 'not_sampled')
    throw new ConsoleError(400, 'ERR_CONSOLE_BAD_PARAM', `outcome must be sampled or not_sampled, got "${outcome}"`);
  const policy = q.get('policy') ?? '';
  if (policy.length > MAX_POLICY_LENGTH)
    throw new ConsoleError(
      400,
      'ERR_CONSOLE_BAD_PARAM',
      `policy is a policy name of at most ${MAX_POLICY_LENGTH} characters`,
    );
  const rawBacklog = q.get('backlog') ?? '';
  const backlog = rawBacklog === '' ? 50 : Number(rawBacklog);
  if (!Number.isInteger(backlog) || backlog < 0 || backlog > MAX_BACKLOG)
    throw new ConsoleError(
      400,
      'ERR_CONSOLE_BAD_PARAM',
      `backlog must be an integer in [0, ${MAX_BACKLOG}], got "${rawBacklog}"`,
    );
  return {
    ...(outcome === '' ? {} : { outcome }),
    ...(policy === '' ? {} : { policy }),
    backlog,
  };
}

function matches(f: StreamFilter, d: DecisionSummary): boolean {
  return (f.outcome === undefined || d.decision === f.outcome) && (f.policy === undefined || d.policy === f.policy);
}

interface Client {
  readonly res: http.ServerResponse;
  dropped: number;
  close(): void;
}

/** DecisionStreams serves the stream endpoint; closeAll() ends every open stream (idempotent). */
export class DecisionStreams {
  private readonly _clients = new Set<Client>();
  private readonly _maxStreams: number;
  private readonly _maxBuffered: number;
  private readonly _heartbeatMs: number;
  private _heartbeat: NodeJS.Timeout | undefined;
  /** Batches dropped for slow clients since start (all clients). */
  droppedBatches = 0;

  constructor(
    private readonly _providers: () => ReadonlyArray<{ readonly provider: InsightsProvider }>,
    opts: DecisionStreamOptions = {},
  ) {
    this._maxStreams = opts.maxStreams ?? DEFAULT_MAX_STREAMS;
    this._maxBuffered = opts.maxBufferedBytes ?? DEFAULT_MAX_STREAM_BUFFER;
    this._heartbeatMs = opts.heartbeatMs ?? DEFAULT_STREAM_HEARTBEAT_MS;
  }

  /** Streams open now. */
  get open(): number {
    return this._clients.size;
  }

  /**
   * handle opens a stream on `res`, or throws ConsoleError for bad parameters (400) and past the limit (503).
   * The stream ends when the client goes away or at closeAll().
   */
  handle(req: http.IncomingMessage, res: http.ServerResponse, q: URLSearchParams): void {
    const filter = parseStreamFilter(q);
    if (this._clients.size >= this._maxStreams) {
      throw new ConsoleError(
        503,
        'ERR_CONSOLE_TOO_MANY_STREAMS',
        `${this._clients.size} decision streams are open already, the limit: close another console tab, ` +
          'or poll /v1/decisions?since=<now of the last answer> instead',
      );
    }
    const providers = this._providers().map((p) => p.provider);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const backlog: DecisionSummary[] = [];
    if (filter.backlog > 0) {
      for (const p of providers)
        for (const d of p.recentDecisions?.(MAX_BACKLOG) ?? []) if (matches(filter, d)) backlog.push(d);
      backlog.sort((a, b) => a.decidedAt - b.decidedAt);
    }
    res.write(`retry: 3000\nevent: hello\ndata: ${JSON.stringify({ live: providers.length > 0 })}\n\n`);
    const client: Client = { res, dropped: 0, close: () => undefined };
    if (backlog.length > 0) this._send(client, backlog.slice(-filter.backlog));
    const unsubscribe = providers.map(
      (p) =>
        p.subscribeDecisions?.((batch) => {
          const mine = batch.filter((d) => matches(filter, d));
          if (mine.length > 0) this._send(client, mine);
        }) ?? (() => undefined),
    );
    let closed = false;
    client.close = () => {
      if (closed) return;
      closed = true;
      unsubscribe.forEach((u) => u());
      this._clients.delete(client);
      if (this._clients.size === 0 && this._heartbeat !== undefined) {
        clearInterval(this._heartbeat);
        this._heartbeat = undefined;
      }
      if (!res.writableEnded) res.end();
    };
    this._clients.add(client);
    req.once('close', client.close);
    res.once('close', client.close);
    if (this._heartbeat === undefined) {
      this._heartbeat = setInterval(() => {
        for (const c of this._clients) if (c.res.writableLength <= this._maxBuffered) c.res.write(': keep-alive\n\n');
      }, this._heartbeatMs);
      this._heartbeat.unref();
    }
  }

  /** closeAll ends every open stream. */
  closeAll(): void {
    for (const c of [...this._clients]) c.close();
  }

  private _send(client: Client, decisions: readonly DecisionSummary[]): void {
    const res = client.res;
    if (res.writableEnded || res.destroyed) return;
    if (res.writableLength > this._maxBuffered) {
      client.dropped += decisions.length;
      this.droppedBatches++;
      return;
    }
    let text = '';
    if (client.dropped > 0) {
      text += `event: dropped\ndata: ${JSON.stringify({ dropped: client.dropped })}\n\n`;
      client.dropped = 0;
    }
    text += `data: ${JSON.stringify({ decisions })}\n\n`;
    res.write(text);
  }
}
