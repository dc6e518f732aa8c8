/** The parts of parse-prometheus-text-format (no types of its own) the tests use. */
declare module 'parse-prometheus-text-format' {
  export interface ParsedFamily {
    name: string;
    help: string;
    /** Upper case: GAUGE, COUNTER, ... */
    type: string;
    metrics: {value?: string; labels?: Record<string, string>}[];
  }
  /** Throws on a line that is not the text exposition format. */
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
