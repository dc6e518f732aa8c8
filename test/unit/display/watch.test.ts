import assert from 'node:assert/strict';
import {describe, it} from 'mocha';
import {watch} from '../../../src/lib/display/watch.js';

/** A stream that records what is written; a terminal of 80x24 when `tty`. */
function sink(tty: boolean): NodeJS.WriteStream & {text: string} {
  const out = {text: '', isTTY: tty, columns: 80, rows: 24, write: (chunk: string) => ((out.text += chunk), true)};
  return out as unknown as NodeJS.WriteStream & {text: string};
}

/** frame() for watch(): `texts` one after another, stopping the watch after the last. */
function frames(texts: string[], stop: AbortController): () => Promise<string> {
  let i = 0;
  return async () => {
    const text = texts[i++]!;
    if (i === texts.length) setImmediate(() => stop.abort());
    return text;
  };
}

const TITLE = /^Every 1s: weave status {2}\d\d:\d\d:\d\d$/;

describe('watch', () => {
  it('off a terminal prints every refresh under its title, a blank line after each', async () => {
    const stop = new AbortController();
    const out = sink(false);
    await watch({intervalMs: 1, title: 'Every 1s: weave status', frame: frames(['\nA\n\n', 'B\n', ''], stop), stop: stop.signal, out});
    const blocks = out.text.split('\n\n');
    assert.deepEqual(blocks.slice(0, 4).map((b, i) => (i % 2 === 0 ? TITLE.test(b) : b)), [true, 'A', true, 'B']);
    assert.match(blocks[4]!, TITLE, 'an empty refresh is its title alone');
    assert.equal(blocks.length, 6);
    assert.ok(out.text.endsWith('\n\n'));
  });

  it('with bare frames prints the documents alone, one after another', async () => {
    const stop = new AbortController();
    const out = sink(false);
    await watch({intervalMs: 1, title: 'Every 1s: weave status --json', bare: true, frame: frames(['{"a": 1}\n', '{"a": 2}\n'], stop), stop: stop.signal, out});
    assert.equal(out.text, '{"a": 1}\n{"a": 2}\n');
  });

  it('on a terminal erases the refresh before, hides the cursor meanwhile and shows it at the end', async () => {
    const stop = new AbortController();
    const out = sink(true);
    await watch({intervalMs: 1, title: 'Every 1s: weave status', frame: frames(['one\n', 'two\n'], stop), stop: stop.signal, out});
    const second = out.text.indexOf('two');
    // The first refresh is 4 lines (title, blank, body, the end): the second erases them, going up three.
    assert.match(out.text.slice(out.text.indexOf('one'), second), /(\x1b\[2K\x1b\[1A){3}\x1b\[2K\x1b\[G/);
    assert.ok(out.text.startsWith('\x1b[?25l'));
    assert.ok(out.text.endsWith('\x1b[?25h'));
  });

  it('ends with the failure of a refresh', async () => {
    const stop = new AbortController();
    await assert.rejects(
      watch({intervalMs: 1, title: 't', frame: () => Promise.reject(new Error('404')), stop: stop.signal, out: sink(false)}),
      {message: '404'},
    );
  });

  it('returns as soon as it is stopped, dropping a refresh under way', async () => {
    const stop = new AbortController();
    const out = sink(false);
    const never = new Promise<string>(() => undefined);
    const watching = watch({intervalMs: 1, title: 't', frame: () => never, stop: stop.signal, out});
    stop.abort();
    await watching;
    assert.equal(out.text, '');
  });
});
