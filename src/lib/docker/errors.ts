import {OperatorError} from '../errors.js';

/** A Docker-side failure; the texts the original printed keep their words and codes. */
export class DockerOperatorError extends OperatorError {}

/** What dockerode rejects with: the HTTP status and the engine's JSON message, when it answered. */
interface EngineError {
  statusCode?: number;
  json?: {message?: string} | null;
  reason?: string;
  message?: string;
}

export function statusOf(error: unknown): number | undefined {
  return (error as EngineError | undefined)?.statusCode;
}

/** The engine's own words for a failed call, e.g. "No such container: weave". */
export function engineMessage(error: unknown): string {
  const e = error as EngineError;
  const text = e?.json?.message ?? (typeof e?.json === 'string' ? (e.json as string) : undefined) ?? e?.message ?? String(error);
  return text.trim().replace(/^\(HTTP code \d+\) [a-z ]+ - /, '');
}
