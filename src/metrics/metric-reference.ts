import { CATALOG_DEFINITIONS } from './catalog.js';
import type { MetricGroup } from './metric-definition.js';

export const REFERENCE_START =
  '<!-- metric-reference:start (generated from src/metrics/catalog.ts by `npm run docs:metrics`) -->';
export const REFERENCE_END = '<!-- metric-reference:end -->';

const GROUP_TITLES: Record<MetricGroup, string> = {
  http: 'HTTP',
  jobs: 'Background jobs',
  database: 'Database',
  integrations: 'Integrations',
  sync: 'Sync layer',
  socketio: 'Socket.IO',
  errors: 'Errors',
  self: 'The library itself',
};

/** The README's metric reference: one Markdown table, generated from the catalog. */
export function metricReferenceTable(): string {
  let previous: MetricGroup | undefined;
  const rows = CATALOG_DEFINITIONS.map((d) => {
    // The group is named on its first row only: the table is long enough.
    const group = d.group === previous ? '' : GROUP_TITLES[d.group];
    previous = d.group;
    const labels = d.labelNames.length ? d.labelNames.map((l) => `\`${l}\``).join(', ') : '—';
    const buckets = d.buckets
      ? d.buckets.join(', ')
      : d.type === 'gauge'
        ? `cluster: ${d.aggregate ?? 'sum'}`
        : '';
    const name = d.specName
      ? `\`${d.name}\` (spec: \`${d.specName}\`)`
      : d.beyondSpec
        ? `\`${d.name}\` (beyond the spec)`
        : `\`${d.name}\``;
    return `| ${group} | ${name} | ${d.type} | ${labels} | ${d.help.replace(/\|/g, '\\|')} | ${buckets} |`;
  });
  return [
    '| group | metric | type | labels | description | buckets, or cluster rule |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** `readme` with the reference block replaced by the current table. */
export function withMetricReference(readme: string): string {
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  if (start === -1 || end === -1 || end < start) {
    throw new Error('README has no metric reference markers');
  }
  return `${readme.slice(0, start + REFERENCE_START.length)}\n${metricReferenceTable()}\n${readme.slice(end)}`;
}
