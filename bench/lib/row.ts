// One line of the bench's table, and what a metric hands back to the runner.

/** `report` marks a figure the issue asks to report without a target. */
export type Verdict = 'pass' | 'MISS' | 'report' | 'error';

export interface Row {
  metric: string;
  tabwarden: string;
  /** The baseline, measured in the same run. */
  baseline: string;
  ratio: string;
  target: string;
  verdict: Verdict;
  /** How many samples after how much warm-up, so a reader can judge stability. */
  samples: string;
}

/** A metric's rows for the table and its raw figures for the JSON. */
export interface MetricResult {
  rows: Row[];
  data: Record<string, unknown>;
  /** Facts a reader needs to interpret the rows (method, caveats). */
  notes: string[];
}

/** `value` as a ratio "2.4×" (to one decimal, two below 1). */
export function formatRatio(value: number): string {
  if (!Number.isFinite(value)) return '—';
  return `${value < 1 ? value.toFixed(2) : value.toFixed(1)}×`;
}

/** A latency in ms with the precision the clock gives (0.1 ms). */
export function ms(value: number): string {
  return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
}

export function verdict(met: boolean): Verdict {
  return met ? 'pass' : 'MISS';
}
