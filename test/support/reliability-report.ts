import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './demo-build.js';

const FILE = join(ROOT, '.reliability', 'report.json');

/**
 * Records a figure of the reliability suite in `.reliability/report.json`
 * (section → figures), which the README's table is written from.
 */
export function report(section: string, figures: Record<string, unknown>): void {
  mkdirSync(join(ROOT, '.reliability'), { recursive: true });
  let all: Record<string, unknown> = {};
  try {
    all = JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, unknown>;
  } catch {
    // first figure of the run
  }
  all[section] = { ...figures, at: new Date().toISOString() };
  writeFileSync(FILE, JSON.stringify(all, null, 2) + '\n');
}
