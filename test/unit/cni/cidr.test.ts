import assert from 'node:assert/strict';
import {containsV4, formatAddress, ipToInt, parseCidr} from '../../../src/lib/net/cidr.js';

describe('net/cidr', () => {
  describe('parseCidr', () => {
    const valid: [string, string, number, 4 | 6][] = [
      ['10.32.0.0/12', '10.32.0.0', 12, 4],
      ['10.32.0.2/12', '10.32.0.2', 12, 4],
      ['0.0.0.0/0', '0.0.0.0', 0, 4],
      ['255.255.255.255/32', '255.255.255.255', 32, 4],
      ['192.168.1.1/24', '192.168.1.1', 24, 4],
      ['::/0', '::', 0, 6],
      ['fd00:32::2/64', 'fd00:32::2', 64, 6],
      ['2001:db8::1/128', '2001:db8::1', 128, 6],
      ['::ffff:10.0.0.1/96', '::ffff:10.0.0.1', 96, 6],
      ['FD00::1/8', 'FD00::1', 8, 6],
    ];
    for (const [text, ip, prefix, family] of valid) {
      it(`parses ${text}`, () => assert.deepEqual(parseCidr(text), {ip, prefix, family}));
    }

    const invalid = [
      '',
      '/',
      '10.32.0.0',
      '10.32.0.0/',
      '/12',
      '10.32.0.0/33',
      '10.32.0.0/-1',
      '10.32.0.0/+8',
      '10.32.0.0/1000',
      '10.32.0.0/12/12',
      '10.32.0.0/12 ',
      ' 10.32.0.0/12',
      '10.32.0.0/ 12',
      '10.32.0.0/1e1',
      '10.32.0.0/0x8',
      '10.32.0.0/8.0',
      '10.32.0/12',
      '10.32.0.256/12',
      '10.32.0.0.0/12',
      'a.b.c.d/8',
      'fd00::/129',
      'fd00::/256',
      'fd00:::1/64',
      'weave/12',
      'default',
    ];
    for (const text of invalid) {
      it(`refuses ${JSON.stringify(text)}`, () => assert.equal(parseCidr(text), undefined));
    }

    it('refuses an IPv6 address with a zone ("fe80::1%eth0/64")', () => {
      assert.equal(parseCidr('fe80::1%eth0/64'), undefined);
    });
  });

  describe('ipToInt and formatAddress', () => {
    const pairs: [string, number][] = [
      ['0.0.0.0', 0],
      ['0.0.0.1', 1],
      ['0.0.1.0', 256],
      ['10.32.0.1', 10 * 2 ** 24 + 32 * 2 ** 16 + 1],
      ['127.0.0.1', 2130706433],
      ['192.168.1.255', 3232236031],
      // above 2^31: must not turn negative as 32-bit bit operations would
      ['200.0.0.1', 3355443201],
      ['255.255.255.255', 2 ** 32 - 1],
    ];
    for (const [ip, n] of pairs) {
      it(`${ip} <-> ${n}`, () => {
        assert.equal(ipToInt(ip), n);
        assert.equal(formatAddress(n), ip);
      });
    }

    it('round trips across the whole range', () => {
      for (let n = 0; n < 2 ** 32; n += 16_777_259) assert.equal(ipToInt(formatAddress(n)), n);
      for (const ip of ['10.47.255.255', '10.48.0.0', '172.16.254.3', '1.2.3.4']) assert.equal(formatAddress(ipToInt(ip)), ip);
    });

    it('orders addresses as numbers', () => {
      assert.ok(ipToInt('10.32.0.2') > ipToInt('10.32.0.1'));
      assert.ok(ipToInt('10.33.0.0') > ipToInt('10.32.255.255'));
      assert.equal(ipToInt('10.33.0.0') - ipToInt('10.32.255.255'), 1);
    });
  });

  describe('containsV4', () => {
    const net = parseCidr('10.32.0.0/12')!;
    const cases: [string, string, boolean][] = [
      ['10.32.0.0/12', '10.32.0.0', true],
      ['10.32.0.0/12', '10.32.0.1', true],
      ['10.32.0.0/12', '10.47.255.255', true],
      ['10.32.0.0/12', '10.48.0.0', false],
      ['10.32.0.0/12', '10.31.255.255', false],
      ['10.32.0.0/12', '192.168.0.1', false],
      // the address's own host bits do not matter: 10.32.0.5/12 is in 10.32.0.0/12
      ['10.32.0.5/12', '10.40.1.1', true],
      ['0.0.0.0/0', '255.255.255.255', true],
      ['0.0.0.0/0', '0.0.0.0', true],
      ['10.32.0.1/32', '10.32.0.1', true],
      ['10.32.0.1/32', '10.32.0.2', false],
      ['192.168.1.0/24', '192.168.1.255', true],
      ['192.168.1.0/24', '192.168.2.0', false],
      ['200.0.0.0/8', '200.255.255.255', true],
      ['200.0.0.0/8', '201.0.0.0', false],
      ['10.32.0.0/31', '10.32.0.1', true],
      ['10.32.0.0/31', '10.32.0.2', false],
    ];
    for (const [cidr, ip, want] of cases) {
      it(`${cidr} ${want ? 'contains' : 'does not contain'} ${ip}`, () => assert.equal(containsV4(parseCidr(cidr)!, ip), want));
    }

    it('is false for anything IPv6 or not an address', () => {
      assert.equal(containsV4(parseCidr('fd00::/8')!, 'fd00::1'), false);
      assert.equal(containsV4(parseCidr('::/0')!, '10.32.0.1'), false);
      assert.equal(containsV4(net, 'fd00::1'), false);
      assert.equal(containsV4(net, '::ffff:10.32.0.1'), false);
      assert.equal(containsV4(net, '10.32.0.1/12'), false);
      assert.equal(containsV4(net, 'weave'), false);
      assert.equal(containsV4(net, ''), false);
    });
  });
});
