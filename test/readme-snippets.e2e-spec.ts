import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { ROOT } from './support/demo-build.js';

/**
 * Every TypeScript block of the README, type-checked against the package's
 * sources (its subpath entry points mapped to `src/`). A block may be a
 * fragment (`imports: [...]`, a call): names it uses without importing are
 * imported here, from where an app would import them, and the few values a
 * fragment assumes (`app`, `Invoice`) are declared.
 */
const IMPORTS: Record<string, string> = {
  Module: '@nestjs/common',
  Injectable: '@nestjs/common',
  NestFactory: '@nestjs/core',
  ObservabilityModule: 'nestjs-observability',
  BullModule: '@nestjs/bullmq',
  TypeOrmModule: '@nestjs/typeorm',
  Redis: 'ioredis',
  BullMQOtel: 'bullmq-otel',
  PrometheusModule: '@willsoto/nestjs-prometheus',
  makeCounterProvider: '@willsoto/nestjs-prometheus',
  InstrumentJob: 'nestjs-observability',
  BullMqObservabilityModule: 'nestjs-observability/bullmq',
  BullMqTelemetry: 'nestjs-observability/bullmq',
  HttpService: '@nestjs/axios',
  CircuitBreakerPolicy: 'cockatiel',
  Integrations: 'nestjs-observability/integrations',
};

const PRELUDE = `
declare type Invoice = { id: string };
declare class ReportsProcessor {}
declare function callPartner(request: { headers: Record<string, string> }): Promise<unknown>;
declare const ConfigModule: import('@nestjs/common').DynamicModule;
declare class ConfigService { getOrThrow(key: string): string; }
`;

function blocks(markdown: string): { line: number; code: string }[] {
  const out: { line: number; code: string }[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```ts') continue;
    const start = i + 1;
    while (++i < lines.length && lines[i] !== '```');
    out.push({ line: start + 1, code: lines.slice(start, i).join('\n') });
  }
  return out;
}

function withImports(code: string): string {
  const imported = new Set(
    [...code.matchAll(/^import\s+(?:type\s+)?\{([^}]*)\}/gm)].flatMap((m) =>
      m[1]!.split(',').map((n) => n.trim()),
    ),
  );
  const body = code.replace(/^import .*$/gm, '');
  const extra = Object.entries(IMPORTS)
    .filter(([name]) => !imported.has(name) && new RegExp(`\\b${name}\\b`).test(body))
    .map(([name, from]) =>
      from === 'ioredis'
        ? `import { Redis } from 'ioredis';`
        : `import { ${name} } from '${from}';`,
    );
  // the quick start's main.ts imports its sibling app.module.ts
  const fixed = code.replace("from './app.module.js'", "from './block-1.js'");
  const app = /\bconst app\b/.test(code)
    ? ''
    : `declare const app: import('@nestjs/common').INestApplication;`;
  return `${extra.join('\n')}\n${fixed}\n${PRELUDE}${app}\nexport {};\n`;
}

const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).map((f) => `docs/${f}`)].filter((f) =>
  f.endsWith('.md'),
);

describe("the README's and docs' code", () => {
  it('type-checks, every TypeScript block of it', () => {
    const found = DOCS.flatMap((doc) =>
      blocks(readFileSync(join(ROOT, doc), 'utf8')).map((b) => ({ ...b, doc })),
    );
    expect(found.filter((b) => b.doc === 'README.md').length).toBeGreaterThanOrEqual(10);
    const dir = mkdtempSync(join(ROOT, 'test', '.readme-'));
    try {
      const files = found.map((b, i) => {
        const file = join(dir, `block-${i + 1}.ts`);
        writeFileSync(file, withImports(b.code));
        return file;
      });
      const config = ts.getParsedCommandLineOfConfigFile(
        join(ROOT, 'tsconfig.json'),
        {},
        { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
      )!;
      const sub = (p: string) => [join(ROOT, 'src', p, 'index.ts')];
      const program = ts.createProgram(files, {
        ...config.options,
        noEmit: true,
        noUnusedLocals: false,
        noUnusedParameters: false,
        allowUnusedLabels: true,
        types: ['node'],
        baseUrl: ROOT,
        paths: {
          'nestjs-observability': [join(ROOT, 'src', 'index.ts')],
          'nestjs-observability/bullmq': sub('bullmq'),
          'nestjs-observability/typeorm': sub('typeorm'),
          'nestjs-observability/terminus': sub('terminus'),
          'nestjs-observability/integrations': sub('integrations'),
          'nestjs-observability/sync': sub('sync'),
          'nestjs-observability/socketio': sub('socketio'),
          'nestjs-observability/socketio-redis': [
            join(ROOT, 'src', 'socketio', 'redis-adapter.ts'),
          ],
        },
      });
      const errors = ts
        .getPreEmitDiagnostics(program)
        .filter((d) => d.file === undefined || files.includes(d.file.fileName))
        .map((d) => {
          const msg = ts.flattenDiagnosticMessageText(d.messageText, '\n');
          if (d.file === undefined || d.start === undefined) return msg;
          const n = files.indexOf(d.file.fileName);
          const { line } = d.file.getLineAndCharacterOfPosition(d.start);
          return `${found[n]!.doc} line ${found[n]!.line + line - 1}: ${msg}`;
        });
      expect(errors).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60000);
});
