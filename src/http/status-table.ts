/** How many statuses a table keeps in its scanned list; later ones go to a map. */
const LISTED = 8;

/**
 * Values by HTTP status for one route. A route answers with a handful of
 * statuses, so the first few are kept in a list compared in order: a few
 * integer comparisons, where a Map hashes the key and probes (~100
 * instructions a lookup on Node 24). Statuses past the first eight, which
 * only an unusual route produces, go to a map.
 */
export class StatusTable<V> {
  private readonly statuses: number[] = [];
  private readonly values: V[] = [];
  private rest: Map<number, V> | undefined;

  get(status: number): V | undefined {
    const statuses = this.statuses;
    for (let i = 0; i < statuses.length; i++) {
      if (statuses[i] === status) return this.values[i];
    }
    return this.rest?.get(status);
  }

  set(status: number, value: V): void {
    const i = this.statuses.indexOf(status);
    if (i !== -1) this.values[i] = value;
    else if (this.rest?.has(status)) this.rest.set(status, value);
    else if (this.statuses.length < LISTED) {
      this.statuses.push(status);
      this.values.push(value);
    } else (this.rest ??= new Map()).set(status, value);
  }
}
