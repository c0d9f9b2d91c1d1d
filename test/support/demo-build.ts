import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

/** Compiles `example/` and `src/` into `.demo/`, as `npm run demo` does. */
export function buildDemo(): void {
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.demo.json'],
    {
      cwd: ROOT,
    },
  );
}
