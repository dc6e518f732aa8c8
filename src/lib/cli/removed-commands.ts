/** Commands that Weave Net 2.0 removed; the original script still named them, and so do we. */
const REMOVED = new Set(['run', 'start', 'restart', 'launch-plugin', 'stop-plugin', 'launch-proxy', 'stop-proxy', 'launch-router', 'stop-router']);

/** The original's two lines for a removed command, or undefined when the command was never removed. */
export function removedCommandMessage(bin: string, command: string): string | undefined {
  if (!REMOVED.has(command)) return undefined;
  return `The '${bin} ${command}' command has been removed as of Weave Net version 2.0\nPlease see release notes for further information`;
}
