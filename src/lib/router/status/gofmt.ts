import {formatValue, type GoValue, int, str} from './govalue.js';

interface Spec {
  minus: boolean;
  zero: boolean;
  plus: boolean;
  width?: number;
  precision?: number;
  verb: string;
}

const VERB = /%([-+0 #]*)(\d+)?(?:\.(\d*))?([a-zA-Z%])/g;

function numeric(v: GoValue): number | bigint | undefined {
  return v.kind === 'int' || v.kind === 'float' ? v.value : undefined;
}

function formatOne(spec: Spec, v: GoValue): string {
  const n = numeric(v);
  switch (spec.verb) {
    case 'd':
      return n === undefined ? `%!d(${formatValue(v)})` : withSign(spec, typeof n === 'bigint' ? n : Math.trunc(n));
    case 'f':
    case 'F':
      return n === undefined ? `%!f(${formatValue(v)})` : withSign(spec, Number(n), spec.precision ?? 6);
    case 'x':
      if (n !== undefined) return n.toString(16);
      return v.kind === 'string' ? Buffer.from(v.value).toString('hex') : `%!x(${formatValue(v)})`;
    case 'q':
      return v.kind === 'string' ? JSON.stringify(v.value) : `%!q(${formatValue(v)})`;
    case 't':
      return v.kind === 'bool' ? String(v.value) : `%!t(${formatValue(v)})`;
    case 'v':
    case 's': {
      const text = spec.plus && n !== undefined ? withSign(spec, n) : formatValue(v);
      return spec.precision === undefined || v.kind !== 'string' ? text : [...text].slice(0, spec.precision).join('');
    }
    default:
      return `%!${spec.verb}(${formatValue(v)})`;
  }
}

function withSign(spec: Spec, n: number | bigint, fixed?: number): string {
  const negative = n < 0;
  const digits = fixed === undefined ? String(negative ? -n : n) : Math.abs(Number(n)).toFixed(fixed);
  const sign = negative ? '-' : spec.plus ? '+' : '';
  // Zero padding goes between the sign and the digits, and only when not left-justified.
  if (spec.zero && !spec.minus && spec.width !== undefined) return sign + digits.padStart(spec.width - sign.length, '0');
  return sign + digits;
}

function pad(spec: Spec, text: string): string {
  const width = spec.width ?? 0;
  const length = [...text].length;
  if (length >= width) return text;
  const fill = ' '.repeat(width - length);
  return spec.minus ? text + fill : fill + text;
}

/** A subset of Go's fmt.Sprintf: verbs v s d f q t x with flags - + 0, width and precision. */
export function sprintf(format: string, args: readonly GoValue[]): string {
  let next = 0;
  const out = format.replace(VERB, (_all, flags: string, width?: string, precision?: string, verb?: string) => {
    if (verb === '%') return '%';
    const spec: Spec = {
      minus: flags.includes('-'),
      zero: flags.includes('0'),
      plus: flags.includes('+'),
      verb: verb!,
      ...(width === undefined ? {} : {width: Number(width)}),
      ...(precision === undefined ? {} : {precision: Number(precision || '0')}),
    };
    if (next >= args.length) return `%!${spec.verb}(MISSING)`;
    return pad(spec, formatOne(spec, args[next++]!));
  });
  const extra = args.slice(next);
  return extra.length === 0 ? out : `${out}%!(EXTRA ${extra.map(formatValue).join(', ')})`;
}

/** sprintf over plain values, for the fixed layouts of the status pages. */
export function sprintfJs(format: string, ...args: (string | number)[]): string {
  return sprintf(
    format,
    args.map(a => (typeof a === 'string' ? str(a) : Number.isInteger(a) ? int(a) : {kind: 'float', value: a})),
  );
}
