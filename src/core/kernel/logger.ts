/**
 * The library's logger: pino-compatible (`logger.error(obj, msg)`), so a merchant can pass their
 * pino, or anything with the same four methods. Whatever reaches it goes through `redact` first:
 * errors from Stripe or the database can quote webhook secrets, API keys or buyers' emails, and
 * logs are kept and shipped far more widely than the database.
 */
export interface Logger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

type Level = keyof Logger;
const LEVELS: Level[] = ['error', 'warn', 'info', 'debug'];

/** The default: one line per entry on the console, debug left out. */
export const consoleLogger: Logger = {
  error: (obj, msg) => console.error(`[stripe-attribution] ${msg ?? ''}`, obj),
  warn: (obj, msg) => console.warn(`[stripe-attribution] ${msg ?? ''}`, obj),
  info: (obj, msg) => console.info(`[stripe-attribution] ${msg ?? ''}`, obj),
  debug: () => {},
};

const SECRETS: Array<[RegExp, string]> = [
  // Webhook signing secrets, and secret / restricted API keys of either mode.
  [/\bwhsec_[A-Za-z0-9]+/g, 'whsec_[redacted]'],
  [/\b(sk|rk)_(test|live)_[A-Za-z0-9]+/g, '$1_$2_[redacted]'],
  // The signature header proves nothing to a reader and helps a replay within its tolerance.
  [/\bv1=[0-9a-f]{16,}/g, 'v1=[redacted]'],
  // Emails keep their first character and domain: enough to tell buyers apart while debugging.
  [/([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)/g, '$1***@$2'],
];

/** `text` without secrets (`whsec_`, `sk_`/`rk_` keys, signatures) or full email addresses. */
export function redactText(text: string): string {
  let result = text;
  for (const [pattern, replacement] of SECRETS) result = result.replace(pattern, replacement);
  return result;
}

/**
 * A copy of `value` safe to log: every string redacted, errors turned into plain objects (their
 * message, stack and cause redacted too), cycles and deep nesting cut.
 */
export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return typeof value === 'function' ? '[function]' : value;
  if (seen.has(value)) return '[circular]';
  if (depth > 6) return '[nested]';
  seen.add(value);
  if (value instanceof Error) {
    const error: Record<string, unknown> = { type: value.name, message: redactText(value.message) };
    if (value.stack) error.stack = redactText(value.stack);
    for (const [key, field] of Object.entries(value)) error[key] = redact(field, depth + 1, seen);
    if (value.cause !== undefined) error.cause = redact(value.cause, depth + 1, seen);
    return error;
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1, seen));
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, redact(field, depth + 1, seen)]));
}

/** `logger` with every entry redacted on the way in; a logger that throws never breaks a request. */
export function redactingLogger(logger: Logger): Logger {
  const wrapped = {} as Logger;
  for (const level of LEVELS) {
    wrapped[level] = (obj, msg) => {
      try {
        logger[level](redact(obj) as object, msg === undefined ? undefined : redactText(msg));
      } catch {
        // Logging is best effort.
      }
    };
  }
  return wrapped;
}
