import type { AlertDefinition } from './alerts.js';
import { ALERTS, notifyLabel } from './alerts.js';
import type { ResolvedGenerateOptions } from './ops.options.js';
import { recordingRules } from './promql.js';

export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** The alerts that are on, with their thresholds and `for` after the options. */
export function enabledAlerts(
  o: ResolvedGenerateOptions,
): (AlertDefinition & { tunedFor: string; tunedThreshold: number })[] {
  return ALERTS.filter((a) => !o.alerts[a.key]?.disabled).map((a) => ({
    ...a,
    tunedThreshold: o.alerts[a.key]?.threshold ?? a.threshold,
    tunedFor:
      o.forOverride !== undefined && a.for !== '0s'
        ? o.forOverride
        : (o.alerts[a.key]?.for ?? a.for),
  }));
}

export function alertingRules(o: ResolvedGenerateOptions): AlertingRule[] {
  return enabledAlerts(o).map((a) => ({
    alert: a.alertname,
    expr: a.expr(o, a.tunedThreshold),
    ...(a.tunedFor === '0s' ? {} : { for: a.tunedFor }),
    labels: { severity: a.severity, notify: notifyLabel(a), ...a.labels },
    annotations: {
      summary: a.summary,
      description: a.description,
      runbook_url: `${o.runbookBaseUrl}#${a.key.toLowerCase()}`,
    },
  }));
}

/** The Prometheus rule file: recording rules, then alerting rules. */
export function ruleFile(o: ResolvedGenerateOptions) {
  return {
    groups: [
      { name: `${o.service}-recording`, rules: recordingRules(o) },
      { name: `${o.service}-alerts`, rules: alertingRules(o) },
    ],
  };
}
