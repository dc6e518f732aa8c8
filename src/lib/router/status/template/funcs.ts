import {marshal} from '../gojson.js';
import {sprintf} from '../gofmt.js';
import {bool, formatValue, type GoValue, INVALID, int, isTrue, str} from '../govalue.js';

/** A template that failed while running (bad field, nil pointer, wrong argument). */
export class TemplateExecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateExecError';
  }
}

type Func = (args: GoValue[]) => GoValue;

function arity(name: string, args: GoValue[], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    throw new TemplateExecError(`wrong number of args for ${name}: want ${min === max ? min : `${min} or more`} got ${args.length}`);
  }
}

function length(v: GoValue): number {
  switch (v.kind) {
    case 'string':
      return Buffer.byteLength(v.value);
    case 'slice':
      return v.items.length;
    case 'map':
      return v.entries.size;
    case 'nil':
      throw new TemplateExecError('len of nil pointer');
    default:
      throw new TemplateExecError(`len of type ${v.kind}`);
  }
}

function index(v: GoValue, key: GoValue): GoValue {
  if (v.kind === 'slice' && key.kind === 'int') {
    const i = Number(key.value);
    if (i < 0 || i >= v.items.length) throw new TemplateExecError(`error calling index: index out of range: ${i}`);
    return v.items[i]!;
  }
  if (v.kind === 'map' && key.kind === 'string') return v.entries.get(key.value) ?? INVALID;
  if (v.kind === 'nil') throw new TemplateExecError('index of untyped nil');
  throw new TemplateExecError(`can't index item of type ${v.kind}`);
}

/** A comparable basic value, or an error naming why not (Go refuses mixed kinds). */
function basic(a: GoValue, b: GoValue): [string | number | bigint | boolean, string | number | bigint | boolean] {
  const ok = (v: GoValue) => v.kind === 'string' || v.kind === 'int' || v.kind === 'float' || v.kind === 'bool';
  if (!ok(a) || !ok(b)) throw new TemplateExecError('invalid type for comparison');
  if (a.kind !== b.kind) throw new TemplateExecError('incompatible types for comparison');
  return [(a as {value: string}).value, (b as {value: string}).value];
}

function equal(a: GoValue, b: GoValue): boolean {
  const [x, y] = basic(a, b);
  // Loose on purpose: a number and a bigint of the same value are the same Go integer.
  return x == y;
}

function order(name: string, test: (c: number) => boolean): Func {
  return args => {
    arity(name, args, 2);
    const [a, b] = basic(args[0]!, args[1]!);
    if (typeof a === 'boolean') throw new TemplateExecError('invalid type for comparison');
    return bool(test(a < b ? -1 : a > b ? 1 : 0));
  };
}

/** fmt.Sprint: a space between operands when neither side is a string. */
function sprint(args: GoValue[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && a.kind !== 'string' && args[i - 1]!.kind !== 'string') out += ' ';
    out += formatValue(a);
  });
  return out;
}

/** The functions operators use in `weave report -f`; `and` and `or` live in the executor (lazy). */
export const FUNCS: Record<string, Func> = {
  len: args => (arity('len', args, 1), int(length(args[0]!))),
  index: args => {
    arity('index', args, 1, Infinity);
    return args.slice(1).reduce((v, key) => index(v, key), args[0]!);
  },
  json: args => (arity('json', args, 1), str(marshal(args[0]!))),
  not: args => (arity('not', args, 1), bool(!isTrue(args[0]!))),
  eq: args => {
    arity('eq', args, 2, Infinity);
    return bool(args.slice(1).some(b => equal(args[0]!, b)));
  },
  ne: args => {
    arity('ne', args, 2);
    return bool(!equal(args[0]!, args[1]!));
  },
  lt: order('lt', c => c < 0),
  le: order('le', c => c <= 0),
  gt: order('gt', c => c > 0),
  ge: order('ge', c => c >= 0),
  print: args => str(sprint(args)),
  println: args => str(`${args.map(formatValue).join(' ')}\n`),
  printf: args => {
    arity('printf', args, 1, Infinity);
    const format = args[0]!;
    if (format.kind !== 'string') throw new TemplateExecError('printf: format is not a string');
    return str(sprintf(format.value, args.slice(1)));
  },
};

export const LAZY_FUNCS = ['and', 'or'] as const;

export const FUNC_NAMES: ReadonlySet<string> = new Set([...Object.keys(FUNCS), ...LAZY_FUNCS]);
