import { resolveBullMqOptions } from '../bullmq/bullmq.options.js';
import { resolveIntegrationsOptions } from '../integrations/integrations.options.js';
import { resolveOptions } from '../observability.options.js';
import { resolveGenerateOptions } from '../ops/ops.options.js';
import { resolveSocketIoOptions } from '../socketio/socketio.options.js';
import { resolveSyncOptions } from '../sync/sync.options.js';
import { resolveHealthOptions } from '../terminus/health.options.js';
import { TypeOrmObservabilityModule } from '../typeorm/typeorm-observability.module.js';
import { bool, int, object, ObservabilityOptionsError } from './schema.js';

/** Every module's options go through the one validator: same messages, same paths. */
const MODULES: [string, (o: never) => unknown][] = [
  ['core', (o) => resolveOptions({ serviceName: 'x', ...(o as object) })],
  ['bullmq', (o) => resolveBullMqOptions(o)],
  ['integrations', (o) => resolveIntegrationsOptions(o)],
  ['sync', (o) => resolveSyncOptions(o)],
  ['socketio', (o) => resolveSocketIoOptions(o)],
  ['health', (o) => resolveHealthOptions(o)],
  ['typeorm', (o) => TypeOrmObservabilityModule.forRoot(o)],
  ['generate', (o) => resolveGenerateOptions(o, ['highErrorRate'])],
];

describe('the options validator', () => {
  it.each(MODULES)('%s: rejects an unknown key by its full path', (name, resolve) => {
    const prefix = name === 'core' || name === 'generate' ? '' : `${name}.`;
    expect(() => resolve({ bogusKey: 1 } as never)).toThrow(ObservabilityOptionsError);
    expect(() => resolve({ bogusKey: 1 } as never)).toThrow(
      `invalid option "${prefix}bogusKey": unknown option`,
    );
  });

  it.each(MODULES)('%s: resolves with defaults when given nothing', (_name, resolve) => {
    expect(() => resolve({} as never)).not.toThrow();
  });

  it.each([
    [() => resolveBullMqOptions({ gaugeCacheMs: -1 }), 'bullmq.gaugeCacheMs', 'from 0 to 600000'],
    [() => resolveSyncOptions({ timeoutMs: 0 }), 'sync.timeoutMs', 'at least 1'],
    [
      () => resolveSocketIoOptions({ latencyProbeIntervalMs: 5 }),
      'socketio.latencyProbeIntervalMs',
      'at least 10',
    ],
    [() => resolveHealthOptions({ serve: 'x' as never }), 'health.serve', '"raw", "controller"'],
    [() => resolveHealthOptions({ path: 'health' }), 'health.path', 'must start with "/"'],
    [
      () => resolveIntegrationsOptions({ integrations: { p: { hosts: ['a b'] } } }),
      'integrations.integrations.p.hosts',
      'host names',
    ],
    [
      () => resolveIntegrationsOptions({ integrations: { p: {} } }),
      'integrations.integrations.p',
      'needs baseUrl or hosts',
    ],
    [
      () =>
        resolveIntegrationsOptions({
          integrations: { p: { baseUrl: 'x', breaker: { halfOpenAfterMs: 0 } } },
        }),
      'integrations.integrations.p.baseUrl',
      'http(s) URL',
    ],
    [
      () => TypeOrmObservabilityModule.forRoot({ slowQueryMs: -5 }),
      'typeorm.slowQueryMs',
      'at least 0',
    ],
    [() => resolveGenerateOptions({ window: '5 minutes' }, []), 'window', 'Prometheus duration'],
    [() => resolveGenerateOptions({ alerts: { nope: {} } }, ['a']), 'alerts.nope', 'unknown alert'],
    [
      () => resolveGenerateOptions({ scrape: { tragets: [] } as never }, []),
      'scrape.tragets',
      'unknown option',
    ],
  ])('names the option and the problem (%#)', (resolve, path, problem) => {
    expect(resolve).toThrow(`invalid option "${path}"`);
    expect(resolve).toThrow(problem);
  });

  it.each([
    ['a Redis URL with a password', () => resolveSyncOptions({ redis: 'http://u:hunter2@r:6379' })],
    [
      'an integration URL with credentials',
      () =>
        resolveIntegrationsOptions({
          integrations: { p: { baseUrl: 'https://u:hunter2@api.example' } },
        }),
    ],
    [
      'a metrics token of the wrong type',
      () =>
        resolveOptions({
          serviceName: 'x',
          metrics: { auth: { type: 'bearer', token: ['hunter2'] as never } },
        }),
    ],
    [
      'a basic password of the wrong type',
      () =>
        resolveOptions({
          serviceName: 'x',
          metrics: { auth: { type: 'basic', username: 'u', password: { v: 'hunter2' } as never } },
        }),
    ],
    [
      'an inline webhook secret',
      () =>
        resolveGenerateOptions(
          { receivers: { slack: { type: 'slack', url: 'https://hooks/hunter2' } as never } },
          [],
        ),
    ],
  ])('never echoes %s', (_what, resolve) => {
    let message = '';
    try {
      resolve();
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/invalid option/);
    expect(message).not.toContain('hunter2');
  });

  it('takes its keys from the options type (compile-time)', () => {
    interface Opts {
      a?: number;
      b?: boolean;
    }
    // @ts-expect-error -- a key of Opts has no field
    object<Opts>()({ a: int(1, 0) });
    // @ts-expect-error -- a field for a key Opts does not have
    object<Opts>()({ a: int(1, 0), b: bool(true), c: bool(false) });
    const ok = object<Opts>()({ a: int(1, 0), b: bool(true) });
    expect(ok.parse({ b: false }, 'opts')).toEqual({ a: 1, b: false });
    expect(() => ok.parse({ aa: 1 }, 'opts')).toThrow('did you mean "opts.a"');
  });
});
