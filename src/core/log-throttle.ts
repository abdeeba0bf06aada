/**
 * At most one log line per key per window: an outage that fails every request must not
 * write a line per request. Each line that is let through says how many were left out
 * since the previous one.
 */
export type LogThrottle = (key: string) => { skipped: number } | undefined;

export function createLogThrottle(windowMs = 10_000, now: () => number = Date.now): LogThrottle {
  const seen = new Map<string, { at: number; skipped: number }>();
  return (key) => {
    const t = now();
    const last = seen.get(key);
    if (last && t - last.at < windowMs) {
      last.skipped += 1;
      return undefined;
    }
    seen.set(key, { at: t, skipped: 0 });
    return { skipped: last?.skipped ?? 0 };
  };
}
