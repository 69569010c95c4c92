// Small shared pieces: the error box that says what is wrong in words, a polling hook.

import { useEffect, useState } from 'preact/hooks';
import { ApiError, getJson } from './api';

/** ErrorBox shows a failed call's message. */
export function ErrorBox({ err }: { err: unknown }) {
  const text = err instanceof ApiError ? err.message : err instanceof Error ? err.message : String(err);
  return (
    <div class="error" role="alert" data-testid="error">
      {text}
    </div>
  );
}

/**
 * usePoll fetches `path` now and every `everyMs` while `enabled`; keeps the last good answer and the last error.
 */
export function usePoll<T>(path: string, everyMs: number, enabled = true): { data: T | null; err: unknown } {
  const [data, setData] = useState<T | null>(null);
  const [err, setErr] = useState<unknown>(null);
  useEffect(() => {
    if (!enabled) return;
    let alive = true;
    const ctl = new AbortController();
    const run = () =>
      getJson<T>(path, ctl.signal).then(
        (d) => {
          if (alive) {
            setData(d);
            setErr(null);
          }
        },
        (e: unknown) => {
          if (alive && !(e instanceof DOMException)) setErr(e);
        },
      );
    void run();
    const timer = setInterval(run, everyMs);
    return () => {
      alive = false;
      ctl.abort();
      clearInterval(timer);
    };
  }, [path, everyMs, enabled]);
  return { data, err };
}
