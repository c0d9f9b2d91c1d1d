import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG_DEFINITIONS } from './catalog.js';
import { metricReferenceTable, withMetricReference } from './metric-reference.js';

describe('README metric reference', () => {
  it('lists every catalog metric', () => {
    const table = metricReferenceTable();
    for (const d of CATALOG_DEFINITIONS) expect(table).toContain(`\`${d.name}\``);
  });

  it('is current (run `npm run docs:metrics` after changing the catalog)', () => {
    const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    expect(withMetricReference(readme)).toBe(readme);
  });
});
