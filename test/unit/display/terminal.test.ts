import assert from 'node:assert/strict';
import {chalkStderr} from 'chalk';
import {describe, it} from 'mocha';
import {colorDisabled, plainProgress, stderrColors} from '../../../src/lib/display/terminal.js';

const tty = (columns: number) => ({isTTY: true, columns}) as NodeJS.WriteStream;

describe('terminal output choices', () => {
  it('turns colours off for NO_COLOR (set and not empty) and for --no-color', () => {
    assert.equal(colorDisabled([], {}), false);
    assert.equal(colorDisabled([], {NO_COLOR: '1'}), true);
    assert.equal(colorDisabled([], {NO_COLOR: ''}), false, 'no-color.org: an empty NO_COLOR does not count');
    assert.equal(colorDisabled(['node', 'weave', 'launch', '--no-color'], {}), true);
    assert.equal(stderrColors([], {NO_COLOR: '1'}).level, 0);
    assert.equal(stderrColors(['--no-color'], {FORCE_COLOR: '3'}).level, 0, '--no-color beats FORCE_COLOR');
    assert.equal(stderrColors([], {}).level, chalkStderr.level, "otherwise chalk's own detection");
  });

  it('draws the task list in place only on a terminal with a width, outside CI', () => {
    assert.equal(plainProgress({}, tty(120)), false);
    assert.equal(plainProgress({CI: 'true'}, tty(120)), true);
    assert.equal(plainProgress({}, tty(0)), true, 'a terminal of no width (a fresh pty)');
    assert.equal(plainProgress({}, {isTTY: false} as NodeJS.WriteStream), true);
  });
});
