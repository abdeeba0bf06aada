/**
 * Poll an async source on an interval: the timer lives here, not in a
 * component. A poll never overlaps the previous one; a failure is kept as
 * `error` next to the last good data; `paused` stops the timer.
 */
import { useEffect, useRef, useState } from 'react';
import { errorMessage } from '../../core/errors.js';

export interface PollState<T> {
  data: T | undefined;
  error: string | undefined;
  /** When the last poll finished (ms since epoch). */
  updatedAt: number | undefined;
  polls: number;
}

export function usePoll<T>(
  load: () => Promise<T>,
  intervalMs: number,
  paused = false,
): PollState<T> {
  const [state, setState] = useState<PollState<T>>({
    data: undefined,
    error: undefined,
    updatedAt: undefined,
    polls: 0,
  });
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    if (paused) return undefined;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const tick = async (): Promise<void> => {
      try {
        const data = await loadRef.current();
        if (!stopped)
          setState((s) => ({ data, error: undefined, updatedAt: Date.now(), polls: s.polls + 1 }));
      } catch (err) {
        if (!stopped)
          setState((s) => ({
            ...s,
            error: errorMessage(err),
            updatedAt: Date.now(),
            polls: s.polls + 1,
          }));
      }
      if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
    };
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [intervalMs, paused]);

  return state;
}
