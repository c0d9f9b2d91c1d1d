/** Statement kinds, as the `operation` label reports them. */
export type Operation = 'select' | 'insert' | 'update' | 'delete' | 'transaction' | 'other';

export interface ClassifiedSql {
  operation: Operation;
  /** The first table the statement reads or writes, unquoted, without schema. */
  table: string | undefined;
}

const FIRST_WORD = /^\s*(?:\/\*[\s\S]*?\*\/\s*)*([A-Za-z]+)/;
const IDENT = String.raw`((?:"[^"]+"|\x60[^\x60]+\x60|\[[^\]]+\]|[\w$]+)(?:\s*\.\s*(?:"[^"]+"|\x60[^\x60]+\x60|\[[^\]]+\]|[\w$]+))*)`;
const FROM = new RegExp(String.raw`\bFROM\s+` + IDENT, 'i');
const INTO = new RegExp(String.raw`\bINTO\s+` + IDENT, 'i');
const UPDATE = new RegExp(String.raw`^\s*UPDATE\s+(?:ONLY\s+)?` + IDENT, 'i');
const TRANSACTION_WORDS = new Set([
  'BEGIN',
  'START',
  'COMMIT',
  'ROLLBACK',
  'SAVEPOINT',
  'RELEASE',
  'END',
]);

function unquote(ident: string): string {
  const last = ident.split('.').pop()!.trim();
  return last.replace(/^["`[]|["`\]]$/g, '');
}

/** Operation and main table of a SQL statement, from its text alone. */
export function classifySql(sql: string): ClassifiedSql {
  const word = FIRST_WORD.exec(sql)?.[1]?.toUpperCase();
  let operation: Operation;
  let match: RegExpExecArray | null = null;
  switch (word) {
    case 'SELECT':
    case 'WITH':
      operation = 'select';
      match = FROM.exec(sql);
      break;
    case 'INSERT':
      operation = 'insert';
      match = INTO.exec(sql);
      break;
    case 'UPDATE':
      operation = 'update';
      match = UPDATE.exec(sql);
      break;
    case 'DELETE':
      operation = 'delete';
      match = FROM.exec(sql);
      break;
    default:
      operation =
        word !== undefined && (TRANSACTION_WORDS.has(word) || /^\s*SET\s+TRANSACTION\b/i.test(sql))
          ? 'transaction'
          : 'other';
  }
  return { operation, table: match ? unquote(match[1]!) : undefined };
}

const STRING_LITERAL = /'(?:[^']|'')*'/g;
const MAX_SQL = 2000;

/** SQL for a log line: string literals replaced by '?', bounded length (parameters are never logged). */
export function sqlForLog(sql: string): string {
  const s = sql.replace(STRING_LITERAL, "'?'");
  return s.length > MAX_SQL ? `${s.slice(0, MAX_SQL)}…` : s;
}
