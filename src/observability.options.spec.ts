import { ObservabilityOptionsError, resolveOptions } from './observability.options.js';

describe('resolveOptions', () => {
  it('fills every default from serviceName alone', () => {
    const o = resolveOptions({ serviceName: 'api' });
    expect(o.site).toBe('api');
    expect(o.metrics).toMatchObject({
      enabled: true,
      path: '/metrics',
      defaultMetrics: true,
      exemplars: true,
      gzip: true,
    });
    expect(o.http).toMatchObject({
      enabled: true,
      unmatchedEndpoint: 'unmatched',
      accessLog: true,
      ignorePaths: [],
    });
    expect(o.trace).toEqual({
      enabled: true,
      header: 'x-trace-id',
      acceptTraceparent: true,
      maxLength: 64,
      responseHeader: true,
      openTelemetry: true,
    });
    expect(o.labels).toEqual({
      maxValues: 500,
      maxValuesPerLabel: {},
      maxLength: 128,
      overflowValue: '__overflow__',
    });
    expect(o.organization).toMatchObject({
      header: 'x-organization',
      queryParam: 'organization',
      fallback: 'system',
    });
    expect(o.logging).toMatchObject({
      level: 'info',
      destination: 'stdout',
      sync: false,
      replaceNestLogger: true,
    });
  });

  it.each([
    [undefined, '(options)'],
    [{}, 'serviceName'],
    [{ serviceName: '' }, 'serviceName'],
    [{ serviceName: 'a', metrics: { path: 'metrics' } }, 'metrics.path'],
    [{ serviceName: 'a', metrics: { path: '/m?x' } }, 'metrics.path'],
    [{ serviceName: 'a', metrics: { port: 70000 } }, 'metrics.port'],
    [{ serviceName: 'a', metrics: { auth: { type: 'bearer' } } }, 'metrics.auth.token'],
    [{ serviceName: 'a', metrics: { auth: { type: 'digest' } } }, 'metrics.auth.type'],
    [
      { serviceName: 'a', metrics: { auth: { type: 'basic', username: 'a:b', password: 'p' } } },
      'metrics.auth.username',
    ],
    [{ serviceName: 'a', metrics: { defaultLabels: { env: 1 } } }, 'metrics.defaultLabels.env'],
    [{ serviceName: 'a', metric: {} }, 'metric'],
    [{ serviceName: 'a', http: { ignorePaths: ['health'] } }, 'http.ignorePaths'],
    [{ serviceName: 'a', http: { enabled: 'yes' } }, 'http.enabled'],
    [{ serviceName: 'a', trace: { header: 'x trace' } }, 'trace.header'],
    [{ serviceName: 'a', trace: { maxLength: 4 } }, 'trace.maxLength'],
    [{ serviceName: 'a', logging: { level: 'verbose' } }, 'logging.level'],
    [{ serviceName: 'a', logging: { destination: 42 } }, 'logging.destination'],
    [{ serviceName: 'a', labels: { maxValues: 0 } }, 'labels.maxValues'],
    [
      { serviceName: 'a', labels: { maxValuesPerLabel: { org: -1 } } },
      'labels.maxValuesPerLabel.org',
    ],
    [{ serviceName: 'a', organization: { resolve: 'header' } }, 'organization.resolve'],
    [{ serviceName: 'a', resolveUser: 1 }, 'resolveUser'],
  ])('rejects %j naming "%s"', (input, path) => {
    expect(() => resolveOptions(input)).toThrow(ObservabilityOptionsError);
    expect(() => resolveOptions(input)).toThrow(`invalid option "${path}"`);
  });

  it('suggests the option that was probably meant', () => {
    expect(() => resolveOptions({ serviceName: 'a', metric: {} })).toThrow(
      'did you mean "metrics"?',
    );
  });

  it.each([
    ['a bearer token of the wrong type', { type: 'bearer', token: ['s3cr3t-token-value'] }],
    ['an empty-looking token object', { type: 'bearer', token: { value: 's3cr3t-token-value' } }],
    [
      'a basic password of the wrong type',
      { type: 'basic', username: 'u', password: ['s3cr3t-token-value'] },
    ],
  ])('rejects %s without echoing the secret', (_what, auth) => {
    expect(() => resolveOptions({ serviceName: 'a', metrics: { auth } })).toThrow(
      ObservabilityOptionsError,
    );
    try {
      resolveOptions({ serviceName: 'a', metrics: { auth } });
    } catch (e) {
      expect(String(e)).toMatch(/metrics\.auth\.(token|password)/);
      expect(String(e)).not.toContain('s3cr3t');
    }
  });
});

describe('organization resolver', () => {
  const { organization } = resolveOptions({ serviceName: 'a' });
  const req = (over: object) => ({
    method: 'GET',
    url: '/',
    headers: {},
    body: undefined,
    user: undefined,
    raw: {},
    ...over,
  });
  it('reads the header, then the query, then the body', () => {
    expect(
      organization.resolve(req({ headers: { 'x-organization': 'h' }, url: '/?organization=q' })),
    ).toBe('h');
    expect(organization.resolve(req({ url: '/x?a=1&organization=q%20r' }))).toBe('q r');
    expect(organization.resolve(req({ body: { organization: 'b' } }))).toBe('b');
    expect(
      organization.resolve(req({ url: '/?organisation=no', body: { organization: 5 } })),
    ).toBeUndefined();
  });

  it('takes the query string the adapter gives instead of searching the url', () => {
    expect(organization.resolve(req({ url: '/x?organization=u', query: 'organization=q' }))).toBe(
      'q',
    );
    // '' says there is none: the url is not searched again
    expect(organization.resolve(req({ url: '/x?organization=u', query: '' }))).toBeUndefined();
  });
});
