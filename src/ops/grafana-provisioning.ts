import type { ResolvedGenerateOptions } from './ops.options.js';

/** Grafana datasource provisioning: the Prometheus the dashboards query, with exemplar links. */
export function grafanaDatasource(o: ResolvedGenerateOptions) {
  return {
    apiVersion: 1,
    datasources: [
      {
        name: 'Prometheus',
        type: 'prometheus',
        uid: o.datasourceUid,
        access: 'proxy',
        url: o.prometheusUrl,
        isDefault: true,
        jsonData: { timeInterval: o.scrape.interval },
      },
    ],
  };
}

/** Grafana dashboard provisioning: loads the generated dashboards from a folder. */
export function grafanaDashboardProvider(o: ResolvedGenerateOptions, path: string) {
  return {
    apiVersion: 1,
    providers: [
      {
        name: `nestjs-observability-${o.service}`,
        folder: 'nestjs-observability',
        type: 'file',
        disableDeletion: false,
        allowUiUpdates: false,
        options: { path, foldersFromFilesStructure: false },
      },
    ],
  };
}
