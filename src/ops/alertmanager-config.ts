import { enabledAlerts } from './rule-files.js';
import type { ChannelReceiver, ResolvedGenerateOptions } from './ops.options.js';

function receiverConfig(name: string, r: ChannelReceiver | undefined): Record<string, unknown> {
  if (r === undefined) return { name };
  if (r.type === 'webhook') return { name, webhook_configs: [{ url: r.url, send_resolved: true }] };
  if (r.type === 'slack') {
    return {
      name,
      slack_configs: [
        {
          api_url_file: r.apiUrlFile,
          channel: r.channel,
          send_resolved: true,
          title: '{{ .CommonAnnotations.summary }}',
          text: '{{ range .Alerts }}{{ .Annotations.description }} <{{ .Annotations.runbook_url }}|runbook>\n{{ end }}',
        },
      ],
    };
  }
  return {
    name,
    pagerduty_configs: [
      {
        routing_key_file: r.routingKeyFile,
        description: '{{ .CommonAnnotations.summary }}',
        send_resolved: true,
      },
    ],
  };
}

/**
 * Alertmanager config: each alert goes exactly to the channels of the
 * specification's table (its `notify` label: PagerDuty and Slack, PagerDuty
 * only, Slack only), grouped by alert and service; warnings are held back
 * while their critical counterpart fires. Secrets only through `*_file`.
 */
export function alertmanagerConfig(o: ResolvedGenerateOptions) {
  const alerts = enabledAlerts(o);
  const inhibitions: Record<string, unknown>[] = [];
  if (
    alerts.some((a) => a.alertname === 'TokenExpired') &&
    alerts.some((a) => a.alertname === 'TokenExpiringSoon')
  ) {
    inhibitions.push({
      source_matchers: ['alertname="TokenExpired"'],
      target_matchers: ['alertname="TokenExpiringSoon"'],
      equal: ['job', 'integration', 'org'],
    });
  }
  // A critical alert silences the warning of the same name (the two QueueBacklog rows).
  inhibitions.push({
    source_matchers: ['severity="critical"'],
    target_matchers: ['severity="warning"'],
    equal: ['alertname', 'job'],
  });
  return {
    route: {
      receiver: 'default',
      group_by: ['alertname', 'job'],
      group_wait: o.alertmanager.groupWait,
      group_interval: o.alertmanager.groupInterval,
      repeat_interval: o.alertmanager.repeatInterval,
      routes: [
        { receiver: 'watchdog', matchers: ['alertname="Watchdog"'], repeat_interval: '5m' },
        { receiver: 'pagerduty', matchers: ['notify=~"(.*_)?pagerduty(_.*)?"'], continue: true },
        { receiver: 'slack', matchers: ['notify=~"(.*_)?slack(_.*)?"'] },
      ],
    },
    inhibit_rules: inhibitions,
    receivers: [
      // Alerts with no channel (none today) end here, notifying nobody.
      { name: 'default' },
      receiverConfig('pagerduty', o.receivers.pagerduty),
      receiverConfig('slack', o.receivers.slack),
      receiverConfig('watchdog', o.receivers.watchdog),
    ],
  };
}
