/**
 * The report as Go's text/template and encoding/json see it: typed values, so `{{.}}`, `len`,
 * truth and JSON come out as the original router printed them (nil vs empty, uint64 ids, ...).
 */
export type GoValue =
  | {kind: 'string'; value: string}
  | {kind: 'int'; value: number | bigint}
  | {kind: 'float'; value: number}
  | {kind: 'bool'; value: boolean}
  /** A nil pointer, interface or map. */
  | {kind: 'nil'}
  /** What a missing map key gives a template: prints `<no value>`. */
  | {kind: 'invalid'}
  /** `nil`: a nil slice (`var s []T` never appended to), which encoding/json writes as null. */
  | {kind: 'slice'; items: GoValue[]; nil?: true}
  | {kind: 'map'; entries: Map<string, GoValue>}
  | GoStruct;

export interface GoStruct {
  kind: 'struct';
  fields: Record<string, GoValue>;
  /** Fields tagged `omitempty` in the original: left out of JSON when nil. */
  omitNil?: readonly string[];
  /** What a String() method prints, when the Go type has one. */
  text?: string;
  /** What a MarshalJSON method gives, when the Go type has one. */
  json?: string;
}

export const str = (value: string): GoValue => ({kind: 'string', value});
export const int = (value: number | bigint): GoValue => ({kind: 'int', value});
export const bool = (value: boolean): GoValue => ({kind: 'bool', value});
export const NIL: GoValue = {kind: 'nil'};
export const INVALID: GoValue = {kind: 'invalid'};
export const slice = (items: GoValue[]): GoValue => ({kind: 'slice', items});
export const strings = (items: readonly string[]): GoValue => slice(items.map(str));
/** What the original built by appending to a nil slice: nil (JSON null) when nothing was appended. */
export const appended = (items: GoValue[]): GoValue => (items.length === 0 ? {kind: 'slice', items, nil: true} : slice(items));

export function struct(fields: Record<string, GoValue>, extra: Omit<GoStruct, 'kind' | 'fields'> = {}): GoStruct {
  return {kind: 'struct', fields, ...extra};
}

/** A JSON-shaped JavaScript value (connection attributes) as Go's interface{} holds it. */
export function fromJs(value: unknown): GoValue {
  if (value === null || value === undefined) return NIL;
  if (typeof value === 'string') return str(value);
  if (typeof value === 'boolean') return bool(value);
  if (typeof value === 'bigint') return int(value);
  if (typeof value === 'number') return Number.isInteger(value) ? int(value) : {kind: 'float', value};
  if (Array.isArray(value)) return slice(value.map(fromJs));
  return {kind: 'map', entries: new Map(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, fromJs(v)]))};
}

/** Keys in the order Go ranges over and prints a map: sorted. */
export function sortedKeys(entries: Map<string, GoValue>): string[] {
  return [...entries.keys()].sort();
}

/** Go's template truth: zero values, nil and empty collections are false; structs are true. */
export function isTrue(v: GoValue): boolean {
  switch (v.kind) {
    case 'string':
      return v.value !== '';
    case 'int':
      return v.value !== 0 && v.value !== 0n;
    case 'float':
      return v.value !== 0;
    case 'bool':
      return v.value;
    case 'nil':
    case 'invalid':
      return false;
    case 'slice':
      return v.items.length > 0;
    case 'map':
      return v.entries.size > 0;
    case 'struct':
      return true;
  }
}

/**
 * strconv.FormatFloat(f, 'g', -1, 64), which fmt's %v and Prometheus use: the shortest digits,
 * with an exponent from 1e+06 up and below 1e-04.
 */
export function formatGoFloat(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const [mantissa, exp] = f.toExponential().split('e') as [string, string];
  const e = Number(exp);
  if (e < -4 || e >= 6) return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return String(f);
}

/** fmt's %v, as a template prints a value. */
export function formatValue(v: GoValue): string {
  switch (v.kind) {
    case 'string':
      return v.value;
    case 'int':
      return String(v.value);
    case 'float':
      return formatGoFloat(v.value);
    case 'bool':
      return String(v.value);
    case 'nil':
      return '<nil>';
    case 'invalid':
      return '<no value>';
    case 'slice':
      return `[${v.items.map(formatValue).join(' ')}]`;
    case 'map':
      return `map[${sortedKeys(v.entries)
        .map(k => `${k}:${formatValue(v.entries.get(k)!)}`)
        .join(' ')}]`;
    case 'struct':
      return v.text ?? `{${Object.values(v.fields).map(formatValue).join(' ')}}`;
  }
}
