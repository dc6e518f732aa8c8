import assert from 'node:assert/strict';
import {indentJson} from '../../../src/lib/display/json-text.js';

describe('indentJson', () => {
  it('lays compact JSON out as MarshalIndent does, leaving numbers as sent', () => {
    const compact = '{"a":[1,{"b":"x, y: {z}"}],"e":[],"o":{},"u":12345678901234567890,"s":"q\\"{[,"}';
    assert.equal(
      indentJson(compact),
      '{\n    "a": [\n        1,\n        {\n            "b": "x, y: {z}"\n        }\n    ],\n    "e": [],\n    "o": {},\n    "u": 12345678901234567890,\n    "s": "q\\"{[,"\n}',
    );
    assert.deepEqual(JSON.parse(indentJson(compact)), JSON.parse(compact));
  });

  it('leaves scalars alone', () => {
    assert.equal(indentJson('null'), 'null');
    assert.equal(indentJson('"a b"'), '"a b"');
  });
});
