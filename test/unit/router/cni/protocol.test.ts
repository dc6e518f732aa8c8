import assert from 'node:assert/strict';
import {describe, it} from 'mocha';
import {GREETING, MAX_REQUEST_BYTES, ProtocolError, RequestReader} from '../../../../src/lib/router/cni/protocol.js';

const field = (name: string, value: string) => `${name} ${Buffer.byteLength(value)}\n${value}\n`;
const request = (fields: [string, string][], end = 'END 0\n\n') => `${GREETING}\n${fields.map(([n, v]) => field(n, v)).join('')}${end}`;

function read(text: string | Buffer, chunk = Infinity) {
  const reader = new RequestReader();
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += chunk) {
    const whole = reader.push(bytes.subarray(i, Math.min(bytes.length, i + chunk)));
    if (whole) return whole;
  }
  return undefined;
}

describe('warm CNI socket protocol', () => {
  it('reads a request whole, however it is cut into chunks, with what follows it', () => {
    const text = request([['PLUGIN', 'weave-net'], ['CNI_COMMAND', 'ADD'], ['CNI_CONTAINERID', 'c1'], ['CNI_NETNS', '/var/run/netns/cni-1'], ['CNI_IFNAME', 'eth0'], ['CNI_ARGS', ''], ['CNI_PATH', '/opt/cni/bin'], ['CONFIG', '{"cniVersion":"1.0.0"}\n'], ['NETNS_HANDLE', '/proc/7/fd/3'], ['NETNS_ID', '4:4026532174']]) + 'go\n';
    for (const chunk of [1, 7, Infinity]) {
      const whole = read(text, chunk);
      assert.ok(whole, `chunks of ${chunk}`);
      assert.deepEqual(whole.request, {
        plugin: 'weave-net',
        env: {CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/var/run/netns/cni-1', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin'},
        stdin: '{"cniVersion":"1.0.0"}\n',
        netnsHandle: '/proc/7/fd/3',
        netnsId: '4:4026532174',
      });
      if (chunk === Infinity) assert.equal(whole.rest.toString(), 'go\n');
    }
  });

  it('keeps a newline inside a value as data: no value can add or replace a field', () => {
    const whole = read(request([['PLUGIN', 'weave-net'], ['CNI_IFNAME', 'eth0\nPLUGIN=weave-ipam'], ['CNI_CONTAINERID', 'c1\nCNI_NETNS=/x'], ['CNI_ARGS', 'A=1\nCNI_CONTAINERID=evil']]));
    assert.equal(whole?.request.plugin, 'weave-net');
    assert.equal(whole?.request.env.CNI_IFNAME, 'eth0\nPLUGIN=weave-ipam');
    assert.equal(whole?.request.env.CNI_CONTAINERID, 'c1\nCNI_NETNS=/x');
    assert.equal(whole?.request.env.CNI_NETNS, undefined);
  });

  it('counts lengths in bytes, not characters', () => {
    assert.equal(read(request([['CONFIG', '{"name":"réseau ✓"}']]))?.request.stdin, '{"name":"réseau ✓"}');
  });

  const refusals: [string, string, RegExp][] = [
    ['another greeting', 'weave-cni 1\nPLUGIN=weave-net\n\n{}', /expected "weave-cni 2"/],
    ['a field given twice', request([['PLUGIN', 'weave-net'], ['PLUGIN', 'weave-ipam']]), /PLUGIN given twice/],
    ['an unknown field', request([['PATH', '/tmp']]), /unknown field PATH/],
    ['a length that lies', `${GREETING}\nPLUGIN 3\nweave-net\nEND 0\n\n`, /not followed by a newline/],
    ['a bad header', `${GREETING}\nPLUGIN=weave-net\n`, /bad field header/],
    ['a value on END', `${GREETING}\nEND 1\nx\n`, /END carries no value/],
    ['a header line without end', `${GREETING}\n${'A'.repeat(100)}`, /too long/],
    ['a field larger than the cap', `${GREETING}\nCONFIG ${MAX_REQUEST_BYTES + 1}\n`, /larger than/],
  ];
  for (const [what, text, message] of refusals) {
    it(`refuses ${what}`, () => {
      assert.throws(() => read(text), (error: Error) => error instanceof ProtocolError && message.test(error.message));
    });
  }

  it('refuses a request past the size cap as soon as the bytes arrive, before it ends', () => {
    const reader = new RequestReader();
    reader.push(Buffer.from(`${GREETING}\nCONFIG ${MAX_REQUEST_BYTES}\n`));
    const block = Buffer.alloc(64 << 10, 0x61);
    let thrown: unknown;
    let fed = 0;
    try {
      while (fed < 2 * MAX_REQUEST_BYTES) {
        reader.push(block);
        fed += block.length;
      }
    } catch (error) {
      thrown = error;
    }
    assert.ok(thrown instanceof ProtocolError);
    assert.ok(fed <= MAX_REQUEST_BYTES + block.length, `refused after ${fed} bytes`);
  });
});
