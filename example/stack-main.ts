import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack } from './stack.js';

/**
 * `npm run demo:stack`: the demo app, Prometheus and Alertmanager on the
 * generated files. Notifications go to a small local receiver that prints
 * them, standing in for Slack and PagerDuty. Ctrl-C stops everything.
 */
async function main(): Promise<void> {
  const port = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
  const receiverPort = port('RECEIVER_PORT', 9095);
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      try {
        const n = JSON.parse(body) as {
          status: string;
          alerts: { labels: Record<string, string> }[];
        };
        for (const a of n.alerts) {
          const labels = Object.entries(a.labels).filter(
            ([k]) => k !== 'alertname' && k !== 'notify',
          );
          process.stdout.write(
            `[${req.url?.slice(1)}] ${n.status.toUpperCase()} ${a.labels.alertname} ${labels.map(([k, v]) => `${k}=${v}`).join(' ')}\n`,
          );
        }
      } catch {
        // not a notification
      }
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(receiverPort, '127.0.0.1', r));
  const hook = (path: string) => ({
    type: 'webhook' as const,
    url: `http://127.0.0.1:${receiverPort}/${path}`,
  });
  const dir = mkdtempSync(join(tmpdir(), 'nestobs-stack-'));
  const stack = await startStack({
    dir,
    appPort: port('PORT', 3000),
    prometheusPort: port('PROMETHEUS_PORT', 9090),
    alertmanagerPort: port('ALERTMANAGER_PORT', 9093),
    demoEntry: join(import.meta.dirname, 'main.js'),
    generate: {
      receivers: { slack: hook('slack'), pagerduty: hook('pagerduty'), watchdog: hook('watchdog') },
      alertmanager: { groupWait: '5s', groupInterval: '30s', repeatInterval: '1h' },
      // Short enough to watch: the demo's partner tokens expire after two minutes.
      forOverride: process.env.STACK_FOR ?? '30s',
      window: '1m',
    },
    onOutput: (source, line) => {
      if (source !== 'app') process.stderr.write(`[${source}] ${line}\n`);
    },
  });
  process.stdout.write(
    [
      `demo app      ${stack.appUrl}  (metrics at /metrics)`,
      `prometheus    ${stack.prometheusUrl}  (alerts at /alerts)`,
      `alertmanager  ${stack.alertmanagerUrl}`,
      `generated files in ${dir}; notifications print below. Ctrl-C stops everything.`,
      '',
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await stack.stop();
    receiver.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

void main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
