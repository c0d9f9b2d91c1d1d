/**
 * One small declarative validator for every module's options. A schema is a
 * record of fields keyed like the options interface it validates (the
 * interface is the single source of keys: a key missing from the schema, or
 * one the interface does not have, is a compile error); each field checks
 * one value, applies its default and names the option's path when it throws.
 */

/** A wrong option, named in the message; thrown while the application starts. */
export class ObservabilityOptionsError extends Error {
  constructor(path: string, problem: string, value?: unknown) {
    super(
      `nestjs-observability: invalid option "${path}": ${problem}` +
        (value === undefined ? '' : ` (got ${describe(value)})`),
    );
    this.name = 'ObservabilityOptionsError';
  }
}

/** Checks one option value (undefined when not given) and returns it resolved. */
export interface Field<T> {
  parse(value: unknown, path: string): T;
}

type Obj = Record<string, unknown>;

/** A schema for options of type O: exactly O's keys, each with a field. */
export type Schema<O> = { [K in keyof Required<O>]: Field<unknown> };
/** What a field resolves to: `Output<typeof schema>` is a module's resolved options. */
export type Output<F> = F extends Field<infer T> ? T : never;
/** What a schema resolves to. */
export type Resolved<S> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

export const fail = (path: string, problem: string, value?: unknown): never => {
  throw new ObservabilityOptionsError(path, problem, value);
};

const field = <T>(parse: (v: unknown, path: string) => T): Field<T> => ({ parse });

/** An object whose keys are O's: unknown keys are rejected with a suggestion. */
export function object<O>() {
  return <S extends Schema<O>>(
    schema: S & Record<Exclude<keyof S, keyof O>, never>,
  ): Field<Resolved<S>> =>
    field((v, path) => {
      if (v === undefined) v = {};
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        return fail(path || '(options)', 'must be an object', v);
      }
      const known = Object.keys(schema);
      rejectUnknown(v as Obj, path, known);
      const out: Obj = {};
      for (const k of known) {
        out[k] = (schema as unknown as Record<string, Field<unknown>>)[k]!.parse(
          (v as Obj)[k],
          path ? `${path}.${k}` : k,
        );
      }
      return out as Resolved<S>;
    });
}

/** Validates `input` against a root schema, paths prefixed with `root` (e.g. "bullmq"). */
export function resolveWith<T>(f: Field<T>, input: unknown, root = ''): T {
  return f.parse(input, root);
}

function rejectUnknown(o: Obj, path: string, known: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (known.includes(k)) continue;
    const hint = closest(k, known);
    const at = path ? `${path}.` : '';
    fail(`${at}${k}`, `unknown option${hint ? `; did you mean "${at}${hint}"?` : ''}`);
  }
}

/** A field whose resolved value is then transformed (defaults that depend on it, normalising). */
export const map = <A, B>(f: Field<A>, fn: (a: A, path: string) => B): Field<B> =>
  field((v, path) => fn(f.parse(v, path), path));

/** A field that is undefined unless given. */
export const optional = <T>(f: Field<T>): Field<T | undefined> =>
  field((v, path) => (v === undefined ? undefined : f.parse(v, path)));

/** A field with its own check: `parse` gets the value (never undefined) and returns it resolved. */
export const custom = <T>(parse: (v: unknown, path: string) => T, dflt?: () => T): Field<T> =>
  field((v, path) => (v === undefined && dflt !== undefined ? dflt() : parse(v, path)));

export const bool = (dflt: boolean): Field<boolean> =>
  field((v, path) =>
    v === undefined ? dflt : typeof v === 'boolean' ? v : fail(path, 'must be true or false', v),
  );

export const int = (dflt: number, min: number, max = Number.MAX_SAFE_INTEGER): Field<number> =>
  field((v, path) => {
    if (v === undefined) return dflt;
    if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
    return fail(
      path,
      max === Number.MAX_SAFE_INTEGER
        ? `must be an integer of at least ${min}`
        : `must be an integer from ${min} to ${max}`,
      v,
    );
  });

/** A number (not necessarily an integer) of at least `min`. */
export const num = (dflt: number, min: number): Field<number> =>
  field((v, path) => {
    if (v === undefined) return dflt;
    if (typeof v === 'number' && Number.isFinite(v) && v >= min) return v;
    return fail(path, `must be a number of at least ${min}`, v);
  });

/** A non-empty string; `check` returns a problem or undefined. */
export const str = (dflt: string, check?: (s: string) => string | undefined): Field<string> =>
  field((v, path) => {
    if (v === undefined) return dflt;
    if (typeof v !== 'string' || v.length === 0) return fail(path, 'must be a non-empty string', v);
    const problem = check?.(v);
    return problem ? fail(path, problem, v) : v;
  });

/** One of a few strings. */
export const oneOf = <T extends string>(values: readonly T[], dflt: T): Field<T> =>
  field((v, path) =>
    v === undefined
      ? dflt
      : values.includes(v as T)
        ? (v as T)
        : fail(path, `must be one of ${values.map((x) => `"${x}"`).join(', ')}`, v),
  );

export const fn = <F extends (...args: never[]) => unknown>(): Field<F | undefined> =>
  field((v, path) =>
    v === undefined
      ? undefined
      : typeof v === 'function'
        ? (v as F)
        : fail(path, 'must be a function', v),
  );

/** A required secret string; a wrong one is reported without its value. */
export const secret = (): Field<string> =>
  field((v, path) => {
    if (v === undefined || v === '') return fail(path, 'is required');
    if (typeof v !== 'string') {
      return fail(path, `must be a string (got ${Array.isArray(v) ? 'an array' : typeof v})`);
    }
    return v;
  });

/** An array whose every item passes `ok`; `what` says what was expected. */
export const array = <T>(ok: (item: unknown) => boolean, what: string): Field<T[]> =>
  field((v, path) => {
    if (v === undefined) return [];
    if (!Array.isArray(v) || !v.every(ok)) return fail(path, what, v);
    return v as T[];
  });

/** A record of values that each pass `ok`; keys that fail `key` are rejected. */
export const record = <T>(
  ok: (value: unknown) => boolean,
  what: string,
  key?: { ok: (k: string) => boolean; what: string },
): Field<Record<string, T>> =>
  field((v, path) => {
    if (v === undefined) return {};
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      return fail(path, 'must be an object', v);
    }
    for (const [k, val] of Object.entries(v)) {
      if (key && !key.ok(k)) fail(path, key.what, k);
      if (!ok(val)) fail(`${path}.${k}`, what, val);
    }
    return v as Record<string, T>;
  });

/** A record whose values are objects resolved by `item` (named by their key). */
export const recordOf = <T>(item: (value: unknown, path: string, key: string) => T): Field<T[]> =>
  field((v, path) => {
    if (v === undefined) return [];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      return fail(path, 'must be an object', v);
    }
    return Object.entries(v).map(([k, val]) => item(val, `${path}.${k}`, k));
  });

// --- checks shared by several modules ----------------------------------------

export const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
export const headerName = (s: string) =>
  HEADER_NAME.test(s) ? undefined : 'must be a valid HTTP header name';
/** A path the adapter hook can match: starts with "/", no spaces, query or fragment. */
export const urlPath = (s: string) =>
  s.startsWith('/') && !/[\s?#]/.test(s)
    ? undefined
    : 'must start with "/" and contain no spaces, "?" or "#"';

/** The known key a typo most likely meant: same first four letters, or at most two edits away. */
function closest(key: string, known: readonly string[]): string | undefined {
  const k = key.toLowerCase();
  const prefix = known.find((n) => n.toLowerCase().startsWith(k.slice(0, 4)));
  if (prefix !== undefined) return prefix;
  let best: string | undefined;
  let bestDistance = 3;
  for (const n of known) {
    const d = editDistance(k, n.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [n, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        prev[j]! + 1,
        row[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = row;
  }
  return prev[b.length]!;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? v.slice(0, 60) + '…' : v);
  if (typeof v === 'function') return 'a function';
  if (v instanceof RegExp) return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}
