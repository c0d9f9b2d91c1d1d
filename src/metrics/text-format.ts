/** Escaping and number formatting shared by the Prometheus text and OpenMetrics writers. */

const LABEL_ESCAPES = /[\\"\n]/g;
// Not global: `test` on a global regex would carry `lastIndex` between calls.
const NEEDS_LABEL_ESCAPE = /[\\"\n]/;
const HELP_ESCAPES_TEXT = /[\\\n]/g;
const HELP_ESCAPES_OPENMETRICS = /[\\"\n]/g;

function escapeChar(c: string): string {
  return c === '\n' ? '\\n' : c === '"' ? '\\"' : '\\\\';
}

export function escapeLabelValue(value: string): string {
  return NEEDS_LABEL_ESCAPE.test(value) ? value.replace(LABEL_ESCAPES, escapeChar) : value;
}

export function escapeHelp(help: string, openMetrics: boolean): string {
  return help.replace(openMetrics ? HELP_ESCAPES_OPENMETRICS : HELP_ESCAPES_TEXT, escapeChar);
}

/** `a="x",b="y"`: the inside of a sample's braces, rendered once per series. */
export function renderLabelPairs(names: readonly string[], values: readonly string[]): string {
  let out = '';
  for (let i = 0; i < names.length; i++) {
    if (i > 0) out += ',';
    out += `${names[i]}="${escapeLabelValue(values[i] ?? '')}"`;
  }
  return out;
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
