import { execFileSync, spawnSync } from 'node:child_process';

/** Finds a Prometheus command-line tool, or fails with how to install it. */
export function requireTool(
  name: 'promtool' | 'amtool' | 'prometheus' | 'prometheus-alertmanager',
): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (!found) {
    throw new Error(
      `${name} is not installed. On Debian/Ubuntu: apt-get install -y prometheus prometheus-alertmanager ` +
        `(.ci/run does this).`,
    );
  }
  return found;
}

/** Runs `promtool check metrics` on an exposition; returns its combined output (empty when clean). */
export function promtoolCheckMetrics(exposition: string): { status: number; output: string } {
  const promtool = requireTool('promtool');
  const r = spawnSync(promtool, ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}`.trim() };
}

export function promtoolVersion(): string {
  return execFileSync(requireTool('promtool'), ['--version'], { encoding: 'utf8' }).split('\n')[0]!;
}
