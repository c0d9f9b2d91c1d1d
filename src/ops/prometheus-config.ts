import type { ResolvedGenerateOptions } from './ops.options.js';

/** An example `prometheus.yml` that scrapes the app and loads the generated rules. */
export function prometheusConfig(o: ResolvedGenerateOptions, ruleFileName: string) {
  return {
    global: { scrape_interval: o.scrape.interval, evaluation_interval: o.scrape.interval },
    rule_files: [ruleFileName],
    alerting: { alertmanagers: [{ static_configs: [{ targets: o.scrape.alertmanagers }] }] },
    scrape_configs: [
      {
        job_name: o.scrape.job,
        metrics_path: o.scrape.metricsPath,
        static_configs: [{ targets: o.scrape.targets }],
      },
    ],
  };
}
