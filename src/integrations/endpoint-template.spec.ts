import { RouteTemplates, templatePath } from './endpoint-template.js';

describe('integration endpoint templates', () => {
  it.each([
    ['/v1/customers/42', '/v1/customers/:id'],
    ['/v1/orders/3f2b8c1e-1111-4c3a-9d7e-0123456789ab/items', '/v1/orders/:id/items'],
    ['/v1/customers/cus_N4fk2Lq9xYz?expand=x', '/v1/customers/:id'],
    ['/files/0123456789abcdef0123/raw', '/files/:id/raw'],
    ['/users/ada%40example.com', '/users/:id'],
    ['/oauth2/token', '/oauth2/token'],
    ['/v2beta1/things', '/v2beta1/things'],
    ['', '/'],
    ['/a/b/c/d/e/f/g/h/i/j/k', '/a/b/c/d/e/f/g/h/*'],
  ])('%s -> %s', (path, template) => expect(templatePath(path)).toBe(template));

  it('prefers the first configured route template that matches', () => {
    const r = new RouteTemplates(['/customers/:id', '/customers/:id/cards/:card', '/files/*']);
    expect(r.match('/customers/42?x=1')).toBe('/customers/:id');
    expect(r.match('/customers/42/cards/7')).toBe('/customers/:id/cards/:card');
    expect(r.match('/files/a/b/c')).toBe('/files/*');
    expect(r.match('/customers')).toBeUndefined();
    expect(r.match('/customers/1/2')).toBeUndefined();
  });
});
