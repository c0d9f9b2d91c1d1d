#!/usr/bin/env node
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generate } from './generate.js';
import type { GenerateOptions } from './ops.options.js';

const USAGE = `usage: nestjs-observability generate --out <dir> [--config <file.json|file.mjs>]
       [--service <name>] [--selector '<matchers>'] [--datasource-uid <uid>] [--runbook-base-url <url>]

Writes the Prometheus rules, an example prometheus.yml, the Alertmanager config,
the Grafana dashboards and provisioning files, and the runbooks.`;

const FLAGS: Record<string, keyof GenerateOptions> = {
  '--service': 'service',
  '--selector': 'selector',
  '--datasource-uid': 'datasourceUid',
  '--runbook-base-url': 'runbookBaseUrl',
  '--window': 'window',
};

async function loadConfig(file: string): Promise<GenerateOptions> {
  const path = resolvePath(file);
  if (path.endsWith('.json')) return JSON.parse(readFileSync(path, 'utf8')) as GenerateOptions;
  const mod = (await import(pathToFileURL(path).href)) as { default?: GenerateOptions };
  return mod.default ?? (mod as GenerateOptions);
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'generate') {
    process.stderr.write(USAGE + '\n');
    return command === '--help' || command === '-h' ? 0 : 2;
  }
  let out: string | undefined;
  let options: GenerateOptions = {};
  const overrides: Record<string, string> = {};
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i]!;
    const value = rest[i + 1];
    if (value === undefined || value.startsWith('--')) {
      process.stderr.write(`missing value for ${flag}\n${USAGE}\n`);
      return 2;
    }
    i++;
    if (flag === '--out') out = value;
    else if (flag === '--config') options = await loadConfig(value);
    else if (FLAGS[flag]) overrides[FLAGS[flag]] = value;
    else {
      process.stderr.write(`unknown option ${flag}\n${USAGE}\n`);
      return 2;
    }
  }
  if (out === undefined) {
    process.stderr.write(`--out is required\n${USAGE}\n`);
    return 2;
  }
  const files = await generate({ ...options, ...overrides });
  for (const f of files) {
    const target = join(out, f.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, f.content);
  }
  process.stdout.write(`wrote ${files.length} files to ${out}\n`);
  return 0;
}

// Run as a program (npm's bin link points here through a symlink), not when imported.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
