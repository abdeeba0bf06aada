/** The original system's published figures, printed beside ours. */

/** Frontend: ms to accept one request of N readings (issue 2). */
export const FRONTEND_BASELINE: ReadonlyArray<{ readings: number; newMs: number; oldMs: number }> =
  [
    { readings: 50, newMs: 84, oldMs: 240 },
    { readings: 100, newMs: 91, oldMs: 420 },
    { readings: 300, newMs: 150, oldMs: 1100 },
    { readings: 500, newMs: 230, oldMs: 1800 },
    { readings: 1000, newMs: 380, oldMs: 3500 },
    { readings: 2000, newMs: 610, oldMs: 6800 },
    { readings: 3000, newMs: 870, oldMs: 10000 },
  ];

export const SWEEP_SIZES = FRONTEND_BASELINE.map((b) => b.readings);

export function frontendBaseline(readings: number): { newMs: number; oldMs: number } | undefined {
  return FRONTEND_BASELINE.find((b) => b.readings === readings);
}
