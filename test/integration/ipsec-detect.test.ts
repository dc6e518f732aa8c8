import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {gunzipSync} from 'node:zlib';
import {assess, detectIpsec, IPSEC_OPTIONS, type IpsecOption, parseKernelConfig} from '../../src/lib/net/ipsec-detect.js';
import {requireRoot, requireTool} from '../helpers/root.js';

const FULL = Object.keys(IPSEC_OPTIONS).map(n => `${n}=y`).join('\n');

describe('kernel IPsec detection', () => {
  it('reads a kernel config: built in, module, not set', () => {
    const config = parseKernelConfig('CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_D="text"\n# a comment\n');
    assert.deepEqual([...config], [['CONFIG_A', 'y'], ['CONFIG_B', 'm'], ['CONFIG_C', 'n'], ['CONFIG_D', 'n']]);
  });

  it('says what is missing when the kernel refuses ESP', () => {
    const config = parseKernelConfig(`${FULL}\n# CONFIG_INET_ESP is not set\nCONFIG_CRYPTO_GCM=m`);
    const support = assess(config, {ok: false, error: 'Requested type not found.'});
    assert.equal(support.usable, false);
    assert.deepEqual(support.missing, ['CONFIG_INET_ESP']);
    assert.equal(support.config?.CONFIG_CRYPTO_GCM, 'm');
    assert.match(support.summary, /^no kernel IPsec: adding an ESP state failed \(Requested type not found\.\); not built: CONFIG_INET_ESP \(ESP for IPv4\)$/);
  });

  it('trusts the kernel’s answer over a config file, and notes a missing policy match', () => {
    const stale = parseKernelConfig('# CONFIG_NETFILTER_XT_MATCH_POLICY is not set');
    const support = assess(stale, {ok: true});
    assert.equal(support.usable, true);
    assert.match(support.summary, /IPsec over VXLAN is possible, but unencrypted VXLAN could not be refused/);
    assert.equal(assess(parseKernelConfig(FULL), {ok: true}).summary, 'the kernel accepts ESP with AES-GCM: IPsec over VXLAN is possible');
    const unknown = assess(undefined, {ok: false, error: 'x'});
    assert.deepEqual([unknown.usable, unknown.config, unknown.missing], [false, undefined, []]);
    assert.match(unknown.summary, /could not be read/);
  });

  describe('on this kernel', () => {
    requireRoot();
    requireTool('unshare', 'util-linux');

    it('reports what the kernel says, consistent with its build options', async () => {
      const support = await detectIpsec();
      assert.equal(support.usable, support.probe.ok);
      // The build options read here directly, not through our parser.
      const text = gunzipSync(readFileSync('/proc/config.gz')).toString();
      const built = (name: IpsecOption) => new RegExp(`^${name}=(y|m)$`, 'm').test(text);
      for (const name of Object.keys(IPSEC_OPTIONS) as IpsecOption[]) assert.equal(support.missing.includes(name), !built(name), name);
      if (!built('CONFIG_INET_ESP') || !built('CONFIG_CRYPTO_GCM')) {
        assert.equal(support.usable, false, 'no ESP or no GCM: no kernel IPsec');
        assert.match(support.summary, /^no kernel IPsec: adding an ESP state failed \(.+\); not built: /);
      }
      // Nothing left behind: the probe's namespace died with it.
      assert.ok(!execFileSync('ip', ['xfrm', 'state'], {encoding: 'utf8'}).includes('192.0.2.2'));
    });
  });
});
