import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..');

describe('an app without the optional peers', () => {
  beforeAll(() => {
    // The published build, as users import it.
    execFileSync(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      { cwd: root },
    );
  }, 120000);

  it('loads and runs the core module with TypeORM, BullMQ, Terminus, Redis clients, cockatiel, Socket.IO and the Grafana SDK unresolvable', () => {
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        './test/fixtures/block-optional-peers.mjs',
        './test/fixtures/core-without-peers.mjs',
      ],
      { cwd: root, encoding: 'utf8', timeout: 60000 },
    );
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({
      hi: 'hi',
      counted: true,
      blocked: true,
    });
  });
});
