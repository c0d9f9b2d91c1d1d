// Rewrites the README's metric reference from the catalog (built into dist/).
import { readFileSync, writeFileSync } from 'node:fs';
import { withMetricReference } from '../dist/metrics/metric-reference.js';

const path = new URL('../README.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = withMetricReference(before);
if (after !== before) writeFileSync(path, after);
console.log(
  after === before ? 'README metric reference is current' : 'README metric reference updated',
);
