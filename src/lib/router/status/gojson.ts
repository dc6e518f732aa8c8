import {type GoValue, sortedKeys} from './govalue.js';

const SHORT_ESCAPES: Record<string, string> = {'"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t'};

/** encoding/json's string escaping, HTML-safe as json.Marshal is: <, > and & become \u00XX. */
function quote(s: string): string {
  return `"${s.replace(/["\\\u0000-\u001f<>&\u2028\u2029]/g, c => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

/** encoding/json's float form: plain decimals, an exponent only below 1e-6 or from 1e21. */
function floatJson(f: number): string {
  if (!Number.isFinite(f)) throw new Error(`json: unsupported value: ${f}`);
  const abs = Math.abs(f);
  if (abs !== 0 && (abs < 1e-6 || abs >= 1e21)) return f.toExponential();
  return String(f);
}

/**
 * json.Marshal (no indent) or json.MarshalIndent(v, "", indent): struct fields in declaration
 * order, map keys sorted, nil as null.
 */
export function marshal(v: GoValue, indent = ''): string {
  return encode(v, indent, '');
}

function encode(v: GoValue, indent: string, prefix: string): string {
  switch (v.kind) {
    case 'string':
      return quote(v.value);
    case 'int':
      return String(v.value);
    case 'float':
      return floatJson(v.value);
    case 'bool':
      return String(v.value);
    case 'nil':
    case 'invalid':
      return 'null';
    case 'slice':
      if (v.nil) return 'null';
      return container('[', ']', v.items.map(item => encode(item, indent, prefix + indent)), indent, prefix);
    case 'map':
      return container(
        '{',
        '}',
        sortedKeys(v.entries).map(k => member(k, v.entries.get(k)!, indent, prefix)),
        indent,
        prefix,
      );
    case 'struct': {
      if (v.json !== undefined) return v.json;
      const omit = new Set(v.omitNil ?? []);
      const members = Object.entries(v.fields)
        .filter(([k, field]) => !(omit.has(k) && field.kind === 'nil'))
        .map(([k, field]) => member(k, field, indent, prefix));
      return container('{', '}', members, indent, prefix);
    }
  }
}

function member(key: string, v: GoValue, indent: string, prefix: string): string {
  return `${quote(key)}:${indent ? ' ' : ''}${encode(v, indent, prefix + indent)}`;
}

function container(open: string, close: string, parts: string[], indent: string, prefix: string): string {
  if (parts.length === 0) return open + close;
  if (!indent) return open + parts.join(',') + close;
  const inner = prefix + indent;
  return `${open}\n${parts.map(p => inner + p).join(',\n')}\n${prefix}${close}`;
}
