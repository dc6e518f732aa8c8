import {setTimeout as delay} from 'node:timers/promises';
import {createLogUpdate} from 'log-update';

export interface WatchOptions {
  intervalMs: number;
  /** The first line of each frame (`Every 2s: weave status peers`); the time of the refresh is added. */
  title: string;
  /** The text of one refresh; what it throws ends the watch. */
  frame: () => Promise<string>;
  /** Ends the watch: aborted, the refresh under way is dropped and watch() returns. */
  stop: AbortSignal;
  /** Off a terminal, frames without their title line: machine-readable output (--json), one document per refresh. */
  bare?: boolean;
  out?: NodeJS.WriteStream;
}

const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

function clock(date: Date): string {
  return date.toTimeString().slice(0, 8);
}

/**
 * Shows `frame()` every `intervalMs` until `stop`. On a terminal each refresh redraws the last
 * in place (the cursor hidden meanwhile, the last frame left on the screen); elsewhere each
 * refresh is printed after the previous, a blank line between.
 */
export async function watch(options: WatchOptions): Promise<void> {
  const out = options.out ?? process.stdout;
  const {stop} = options;
  const stopped = new Promise<undefined>(resolve => stop.addEventListener('abort', () => resolve(undefined), {once: true}));
  // The cursor is hidden on `out` itself: log-update would hide it on stderr, which may not be the terminal.
  const render = out.isTTY ? createLogUpdate(out, {showCursor: true}) : undefined;
  if (render) out.write(HIDE_CURSOR);
  try {
    while (!stop.aborted) {
      const pending = options.frame();
      // A refresh still waiting on the router when the watch stops is dropped, failure and all.
      pending.catch(() => undefined);
      const text = await Promise.race([pending, stopped]);
      if (text === undefined) break;
      const body = text.replace(/^\n+|\n+$/g, '');
      const title = `${options.title}  ${clock(new Date())}`;
      const titled = body === '' ? title : `${title}\n\n${body}`;
      if (render) render(titled);
      else out.write(options.bare ? `${body}\n` : `${titled}\n\n`);
      await delay(options.intervalMs, undefined, {signal: stop}).catch(() => undefined);
    }
  } finally {
    if (render) {
      render.done();
      out.write(SHOW_CURSOR);
    }
  }
}

/** An AbortSignal for SIGINT and SIGTERM (Ctrl-C ends a watch, exit 0), until dispose(). */
export function interruption(): {signal: AbortSignal; dispose: () => void} {
  const controller = new AbortController();
  const abort = () => controller.abort();
  process.on('SIGINT', abort);
  process.on('SIGTERM', abort);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', abort);
      process.off('SIGTERM', abort);
    },
  };
}
