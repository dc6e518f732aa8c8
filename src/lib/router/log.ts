/** Log levels of the original router's --log-level. */
export const LOG_LEVELS = ['debug', 'info', 'warning', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warning(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const SECRET = /password|token|secret|key/i;

/** Replaces the values of secret-looking fields, and `--password X` in argument lists. */
export function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SECRET.test(k)) out[k] = '<redacted>';
    else if (Array.isArray(v)) out[k] = redactArgs(v.map(String));
    else out[k] = v;
  }
  return out;
}

export function redactArgs(args: readonly string[]): string[] {
  return args.map((arg, i) => {
    if (/^--?password=/.test(arg)) return arg.replace(/=.*/, '=<redacted>');
    if (i > 0 && /^--?password$/.test(args[i - 1]!)) return '<redacted>';
    return arg;
  });
}

/** One JSON object per line on stderr: time, level, msg, then the fields, secrets redacted. */
export function createLogger(level: LogLevel, write: (line: string) => void = line => process.stderr.write(line + '\n')): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const emit = (lvl: LogLevel) => (msg: string, fields: Record<string, unknown> = {}) => {
    if (LOG_LEVELS.indexOf(lvl) < threshold) return;
    write(JSON.stringify({time: new Date().toISOString(), level: lvl, msg, ...redact(fields)}));
  };
  return {debug: emit('debug'), info: emit('info'), warning: emit('warning'), error: emit('error')};
}
