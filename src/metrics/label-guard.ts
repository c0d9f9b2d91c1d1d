import type { MetricDefinition } from './metric-definition.js';

/** How label values are bounded. Resolved from the module options. */
export interface LabelLimits {
  /** Distinct values a label may take per metric before new ones collapse. */
  readonly maxValues: number;
  /** Per-label overrides of `maxValues`, by label name. */
  readonly maxValuesPerLabel: Readonly<Record<string, number>>;
  /** Longer values are cut to this many characters. */
  readonly maxLength: number;
  /** The one value that every value past the cap collapses into. */
  readonly overflowValue: string;
}

export const DEFAULT_LABEL_LIMITS: LabelLimits = {
  maxValues: 500,
  maxValuesPerLabel: {},
  maxLength: 128,
  overflowValue: '__overflow__',
};

/** Turns anything a caller passes as a label value into a bounded string. */
export function normalizeLabelValue(value: unknown, maxLength: number): string {
  if (value === undefined || value === null) return '';
  const s = typeof value === 'string' ? value : String(value);
  return s.length > maxLength ? cutLabelValue(s, maxLength) : s;
}

/** `s` cut to `maxLength` UTF-16 units, never between the two halves of a surrogate pair. */
export function cutLabelValue(s: string, maxLength: number): string {
  const last = s.charCodeAt(maxLength - 1);
  return s.slice(0, last >= 0xd800 && last <= 0xdbff ? maxLength - 1 : maxLength);
}

/**
 * Keeps the number of distinct values of each user-controlled label of one
 * metric below its cap, so that a flood of distinct organisations, paths or
 * integration names cannot grow memory or the scrape without bound. Values seen
 * before the cap keep their name forever; later ones become `overflowValue`.
 */
export class LabelGuard {
  /**
   * Per label index: the admitted values with the number of series that use
   * each, or null for a label that is not capped. A value whose last series
   * is removed frees its slot.
   */
  private readonly admitted: (Map<string, number> | null)[];
  private readonly caps: number[];

  constructor(
    private readonly def: MetricDefinition,
    private readonly limits: LabelLimits,
    private readonly onOverflow: (metric: string, label: string) => void,
  ) {
    const bounded = new Set<string>(def.boundedLabels ?? []);
    this.admitted = def.labelNames.map((n) => (bounded.has(n) ? null : new Map<string, number>()));
    this.caps = def.labelNames.map((n) => limits.maxValuesPerLabel[n] ?? limits.maxValues);
  }

  /**
   * Replaces, in place, every value past its label's cap with the overflow
   * value. Returns true when nothing had to be replaced.
   */
  admit(values: string[]): boolean {
    let exact = true;
    for (let i = 0; i < values.length; i++) {
      const seen = this.admitted[i];
      if (seen === null || seen === undefined) continue;
      const v = values[i]!;
      if (seen.has(v) || v === this.limits.overflowValue) continue;
      if (seen.size < this.caps[i]!) {
        seen.set(v, 0);
        continue;
      }
      values[i] = this.limits.overflowValue;
      exact = false;
      this.onOverflow(this.def.name, this.def.labelNames[i]!);
    }
    return exact;
  }

  /** A series with these (admitted) values was created. */
  retain(values: readonly string[]): void {
    for (let i = 0; i < values.length; i++) {
      const seen = this.admitted[i];
      const v = values[i]!;
      if (seen && v !== this.limits.overflowValue) seen.set(v, (seen.get(v) ?? 0) + 1);
    }
  }

  /** A series with these values was removed: values no other series uses free their slot. */
  release(values: readonly string[]): void {
    for (let i = 0; i < values.length; i++) {
      const seen = this.admitted[i];
      const v = values[i]!;
      const n = seen?.get(v);
      if (seen === null || seen === undefined || n === undefined) continue;
      if (n <= 1) seen.delete(v);
      else seen.set(v, n - 1);
    }
  }

  /** Forgets admitted values (used when the metric is reset). */
  clear(): void {
    for (const s of this.admitted) s?.clear();
  }
}
