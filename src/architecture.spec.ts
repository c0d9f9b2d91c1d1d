import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Relative imports of every non-test source file in one folder of src/. */
function importsOf(folder: string): { file: string; target: string }[] {
  const dir = join(__dirname, folder);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
    .flatMap((file) =>
      [...readFileSync(join(dir, file), 'utf8').matchAll(/from '(\.[^']+)'/g)].map((m) => ({
        file: `${folder}/${file}`,
        target: m[1]!,
      })),
    );
}

describe('layering', () => {
  it('the metrics layer imports nothing outside src/metrics', () => {
    const outside = importsOf('metrics').filter((i) => i.target.startsWith('..'));
    expect(outside).toEqual([]);
  });

  it.each(['http', 'logging', 'context', 'metrics'])(
    '%s does not import the module wiring or its options',
    (folder) => {
      const wiring = importsOf(folder).filter((i) =>
        /observability\.(module|options)\.js$|core-deps\.js$/.test(i.target),
      );
      expect(wiring).toEqual([]);
    },
  );
});

describe('public API', () => {
  it('the main entry point exports only what users need at run time', async () => {
    const api = await import('./index.js');
    expect(Object.keys(api).sort()).toEqual([
      'CATALOG',
      'CATALOG_DEFINITIONS',
      'InstrumentJob',
      'MetricsService',
      'ObservabilityModule',
      'ObservabilityOptionsError',
      'StructuredLogger',
      'TraceContext',
    ]);
  });
});
