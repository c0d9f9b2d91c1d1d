/*
 * The `endpoint` label of an outbound call: a route template, never a raw
 * path, so that IDs in URLs cannot grow the number of series. Templates the
 * app configures win; otherwise segments that look like identifiers become
 * `:id`.
 */

const MAX_SEGMENTS = 8;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DIGIT = /\d/;
const HEX_RUN = /^[0-9a-f]{16,}$/i;

/** A segment is an identifier when it is a number, a UUID, a long hex run, or long and has digits. */
export function isIdentifierSegment(segment: string): boolean {
  if (segment === '') return false;
  if (/^\d+$/.test(segment) || UUID.test(segment) || HEX_RUN.test(segment)) return true;
  if (segment.includes('@') || segment.includes('%')) return true;
  return segment.length >= 8 && DIGIT.test(segment);
}

/** The path without query or fragment, identifiers replaced, at most 8 segments. */
export function templatePath(path: string): string {
  const end = path.search(/[?#]/);
  const clean = end === -1 ? path : path.slice(0, end);
  const parts = clean.split('/');
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (out.length > MAX_SEGMENTS) {
      out.push('*');
      break;
    }
    const p = parts[i]!;
    out.push(isIdentifierSegment(p) ? ':id' : p);
  }
  const joined = out.join('/');
  return joined.startsWith('/') ? joined : '/' + joined;
}

/** Compiled route templates of one integration (`/v1/customers/:id`, `/files/*`). */
export class RouteTemplates {
  private readonly routes: { template: string; segments: string[] }[];

  constructor(templates: readonly string[]) {
    this.routes = templates.map((t) => ({ template: t, segments: t.split('/').filter(Boolean) }));
  }

  /** The first template that matches `path` (query ignored), else undefined. */
  match(path: string): string | undefined {
    if (this.routes.length === 0) return undefined;
    const end = path.search(/[?#]/);
    const segs = (end === -1 ? path : path.slice(0, end)).split('/').filter(Boolean);
    for (const r of this.routes) {
      if (matches(r.segments, segs)) return r.template;
    }
    return undefined;
  }
}

function matches(template: string[], path: string[]): boolean {
  for (let i = 0; i < template.length; i++) {
    const t = template[i]!;
    if (t === '*') return true;
    const p = path[i];
    if (p === undefined) return false;
    if (t.startsWith(':')) continue;
    if (t !== p) return false;
  }
  return template.length === path.length;
}
