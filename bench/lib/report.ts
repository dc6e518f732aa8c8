/** Plain-text output of benchmark figures: aligned tables and ratios, then one JSON line. */

export function ms(value: number): string {
  return value.toFixed(1);
}

/** "2.41x" */
export function ratio(ours: number, reference: number): string {
  return `${(ours / reference).toFixed(2)}x`;
}

/** "+12.3 ms" / "-1.0 ms" */
export function delta(ours: number, base: number): string {
  const d = ours - base;
  return `${d >= 0 ? '+' : '-'}${Math.abs(d).toFixed(1)} ms`;
}

/** Columns padded to their widest cell; the first column left-aligned, the others right. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map(r => (r[c] ?? '').length)));
  const line = (r: readonly string[]) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd();
  return [line(header), widths.map(w => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Keeps three significant digits of every fraction (0.26 s stays 0.26), so the JSON line stays short in notes. */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(3)) : v));
}
