const UNIT_MS: Record<string, number> = {ms: 1, s: 1000, m: 60_000};

/** The shortest refresh interval: the router's status pages are not worth polling faster. */
export const MIN_INTERVAL_MS = 100;

/** `2s`, `500ms`, `1.5s`, `1m`, or a bare number of seconds (as watch -n takes it), in milliseconds. */
export function parseInterval(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] ?? 's']! : NaN;
  if (!(ms >= MIN_INTERVAL_MS)) {
    throw new Error(`--interval "${text}" is not a duration of ${MIN_INTERVAL_MS}ms or more: give one such as 2s, 500ms, 1.5s or 1m`);
  }
  return ms;
}
