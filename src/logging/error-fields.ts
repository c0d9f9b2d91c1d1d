import { scrubUrlCredentials } from './redact.js';

export interface ErrorFields {
  error_type: string;
  stack_trace: string;
}

const STACK_HEAD = /^([A-Za-z_$][\w$.]*)(?::|\n|$)/;
const MAX_CAUSES = 3;

function typeOf(err: Error): string {
  const ctor = (err as { constructor?: { name?: string } }).constructor?.name;
  if (ctor && ctor !== 'Error' && ctor !== 'Object') return ctor;
  // Nest's exception handler sometimes hands over a plain Error rebuilt from
  // another error's stack: the stack's first line still names the real class.
  const head = typeof err.stack === 'string' ? STACK_HEAD.exec(err.stack) : null;
  if (head && head[1] !== 'Error') return head[1]!;
  return typeof err.name === 'string' && err.name ? err.name : 'Error';
}

/** The spec's `error_type` and `stack_trace` for anything thrown, causes included. */
export function errorFields(thrown: unknown): ErrorFields {
  if (!(thrown instanceof Error)) {
    const type = thrown === null ? 'null' : typeof thrown === 'object' ? 'Object' : typeof thrown;
    let text: string;
    try {
      text = typeof thrown === 'string' ? thrown : (JSON.stringify(thrown) ?? String(thrown));
    } catch {
      text = String(thrown);
    }
    return { error_type: type, stack_trace: scrubUrlCredentials(text) };
  }
  let stack = typeof thrown.stack === 'string' ? thrown.stack : `${thrown.name}: ${thrown.message}`;
  let cause: unknown = thrown.cause;
  for (let i = 0; i < MAX_CAUSES && cause !== undefined && cause !== null; i++) {
    stack += `\nCaused by: ${cause instanceof Error ? (cause.stack ?? String(cause)) : String(cause)}`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return { error_type: typeOf(thrown), stack_trace: scrubUrlCredentials(stack) };
}
