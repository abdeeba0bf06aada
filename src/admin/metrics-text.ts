/**
 * Prometheus text exposition format (0.0.4), parsed into flat samples, plus the
 * few aggregations a dashboard needs (sum over labels, histogram quantiles).
 * Tolerant: a malformed line is skipped, never thrown on.
 */

export interface Sample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?\s*$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?\s*/gy;

function unescape(v: string): string {
  return v.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function parseValue(raw: string): number {
  if (raw === '+Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  return Number(raw);
}

function parseLabels(body: string): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  let pos = 0;
  while (pos < body.length) {
    LABEL.lastIndex = pos;
    const m = LABEL.exec(body);
    if (!m) return body.slice(pos).trim() === '' ? labels : undefined;
    labels[m[1]!] = unescape(m[2]!);
    pos = LABEL.lastIndex;
  }
  return labels;
}

export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels = m[3] === undefined ? {} : parseLabels(m[3]);
    const value = parseValue(m[4]!);
    if (labels === undefined || Number.isNaN(value)) continue;
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

export type LabelFilter = (labels: Readonly<Record<string, string>>) => boolean;

/** Sum of every sample of one metric (all label sets, or those the filter keeps). */
export function sumOf(samples: readonly Sample[], name: string, filter?: LabelFilter): number {
  let total = 0;
  for (const s of samples) if (s.name === name && (!filter || filter(s.labels))) total += s.value;
  return total;
}

/** Names of the metrics present, for picking by pattern. */
export function metricNames(samples: readonly Sample[]): Set<string> {
  return new Set(samples.map((s) => s.name));
}

/** Cumulative histogram buckets (le -> count), summed over the other labels. */
export type Buckets = ReadonlyArray<readonly [number, number]>;

export function histogramBuckets(
  samples: readonly Sample[],
  base: string,
  filter?: LabelFilter,
): Buckets {
  const byLe = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${base}_bucket` || s.labels.le === undefined) continue;
    if (filter && !filter(s.labels)) continue;
    const le = parseValue(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return [...byLe.entries()].sort((a, b) => a[0] - b[0]);
}

/** Bucket counts of `cur` minus `prev` (what happened between two scrapes). */
export function bucketDelta(prev: Buckets, cur: Buckets): Buckets {
  const before = new Map(prev);
  // A counter that went down means the process restarted: the new counts are the delta.
  const reset = cur.some(([le, n]) => n < (before.get(le) ?? 0));
  return cur.map(([le, n]) => [le, reset ? n : n - (before.get(le) ?? 0)] as const);
}

/**
 * Quantile q (0..1) of cumulative buckets, interpolating linearly inside the
 * bucket as Prometheus' histogram_quantile does. undefined when empty.
 */
export function histogramQuantile(q: number, buckets: Buckets): number | undefined {
  const total = buckets.length ? buckets[buckets.length - 1]![1] : 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      if (count === prevCount) return le;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / (count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}
