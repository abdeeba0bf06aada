/** Parse human durations and sizes used by flags and env vars ("30s", "500ms", "8mb"). */

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

export function parseDuration(input: string | number): number {
  if (typeof input === 'number') return input;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(input);
  if (!m) throw new Error(`not a duration: "${input}" (examples: 500ms, 30s, 2m)`);
  const unit = (m[2] ?? 'ms').toLowerCase();
  return Math.round(Number(m[1]) * (DURATION_UNITS[unit] ?? 1));
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  kib: 1024,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

export function parseSize(input: string | number): number {
  if (typeof input === 'number') return input;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)?\s*$/i.exec(input);
  const unit = (m?.[2] ?? 'b').toLowerCase();
  const factor = SIZE_UNITS[unit];
  if (!m || factor === undefined) throw new Error(`not a size: "${input}" (examples: 512kb, 8mb)`);
  return Math.round(Number(m[1]) * factor);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
  return `${Math.floor(ms / 3_600_000)}h${Math.round((ms % 3_600_000) / 60_000)}m`;
}
