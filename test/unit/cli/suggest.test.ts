import assert from 'node:assert/strict';
import {closestWord, editDistance} from '../../../src/lib/cli/suggest.js';

const COMMANDS = ['completion', 'connect', 'expose', 'forget', 'help', 'hide', 'launch', 'prime', 'ps', 'report', 'reset', 'rmpeer', 'setup', 'status', 'stop', 'version'];

describe('suggestions for a mistyped word', () => {
  it('counts a swap of two neighbours as one edit', () => {
    assert.equal(editDistance('stauts', 'status'), 1);
    assert.equal(editDistance('status', 'status'), 0);
    assert.equal(editDistance('', 'ps'), 2);
    assert.equal(editDistance('lauch', 'launch'), 1);
  });

  it('names the command meant, within one edit for short words and two for longer ones', () => {
    for (const [typo, meant] of [['stauts', 'status'], ['verison', 'version'], ['lanuch', 'launch'], ['sp', 'ps'], ['STATUS', 'status'], ['rmper', 'rmpeer'], ['conect', 'connect']]) {
      assert.equal(closestWord(typo, COMMANDS), meant, typo);
    }
  });

  it('names nothing when no command is that near, or two are equally near', () => {
    for (const typo of ['frobnicate', 'run', 'xyz', 'stat']) assert.equal(closestWord(typo, COMMANDS), undefined, typo);
    assert.equal(closestWord('hids', COMMANDS), 'hide', 'one edit from hide, two from help');
    assert.equal(closestWord('cat', ['bat', 'hat']), undefined, 'a tie');
  });
});
