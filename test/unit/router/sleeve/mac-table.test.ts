import assert from 'node:assert/strict';
import {isGroupMac, MacTable, macAt} from '../../../../src/lib/router/dataplane/sleeve/mac-table.js';

const mac = (text: string) => macAt(Buffer.from(text.replaceAll(':', ''), 'hex'), 0);

describe('sleeve MAC table', () => {
  it('reads MACs as exact numbers', () => {
    assert.equal(mac('ff:ee:dd:cc:bb:aa'), 0xffeeddccbbaa);
    assert.equal(mac('00:00:00:00:00:01'), 1);
    assert.equal(mac('80:00:00:00:00:00'), 2 ** 47);
    assert.equal(macAt(Buffer.from('990a0b0c0d0e0f', 'hex'), 1), mac('0a:0b:0c:0d:0e:0f'));
  });

  it('tells group addresses from unicast ones', () => {
    assert.ok(isGroupMac(Buffer.from('ffffffffffff', 'hex'), 0));
    assert.ok(isGroupMac(Buffer.from('01005e000001', 'hex'), 0));
    assert.ok(!isGroupMac(Buffer.from('020000000001', 'hex'), 0));
  });

  it('learns which peer a MAC is behind, and says when that is news', () => {
    const table = new MacTable();
    assert.ok(table.learn(1, 'a'));
    assert.ok(!table.learn(1, 'a'));
    assert.ok(table.learn(1, 'b'), 'a MAC that moved');
    assert.equal(table.lookup(1), 'b');
    assert.equal(table.lookup(2), undefined);
  });

  it('stays bounded, dropping the oldest, and forgets a removed peer', () => {
    const table = new MacTable(3);
    for (const m of [1, 2, 3, 4]) table.learn(m, m % 2 ? 'odd' : 'even');
    assert.equal(table.size, 3);
    assert.equal(table.lookup(1), undefined);
    table.forgetPeer('even');
    assert.deepEqual([2, 3, 4].map(m => table.lookup(m)), [undefined, 'odd', undefined]);
  });
});
