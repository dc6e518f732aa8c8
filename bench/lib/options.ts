/** A benchmark that cannot go on: printed as is, without a stack trace. */
export class BenchError extends Error {}

/** A whole-number option of at least `min`; `fallback` when not given. */
export function count(value: string | undefined, name: string, fallback: number, min: number, usage: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new BenchError(`--${name} must be a whole number of at least ${min}, not "${value}"\n${usage}`);
  return n;
}
