import assert from 'node:assert/strict';
import {RouterConfigError} from '../../../../src/lib/errors.js';
import {routerConfig} from '../../../../src/lib/router/config.js';
import {parseRouterArgv} from '../../../../src/lib/router/cli.js';
import {reportJson} from '../../../../src/lib/router/status/report.js';
import {dnsText, statusText} from '../../../../src/lib/router/status/text.js';
import type {RouterState} from '../../../../src/lib/router/state.js';
import {FRESH} from '../../../helpers/router-states.js';

const WITH_DNS: RouterState = {
  ...FRESH,
  dns: {
    domain: 'weave.local.',
    upstream: ['8.8.8.8', '8.8.4.4'],
    address: '172.17.0.1:53',
    ttl: 1,
    entries: [
      {hostname: 'db.weave.local.', origin: '8a:3e:3e:3e:3e:3e', containerId: '0123456789abcdef0123', address: '10.32.0.7', version: 0, tombstone: 0},
      {hostname: 'gone.weave.local.', origin: '8a:3e:3e:3e:3e:3e', containerId: 'c2', address: '10.32.0.8', version: 1, tombstone: 1700000000},
    ],
  },
};

const config = (argv: string[]) => {
  const {flags, peers} = parseRouterArgv(argv);
  return routerConfig(flags, peers, {});
};

describe('router/dns in the status views and the router flags', () => {
  it("draws the DNS block and `status dns` in the original's layout (live entries only)", () => {
    assert.match(statusText(WITH_DNS), /\n\n {8}Service: dns\n {9}Domain: weave\.local\.\n {7}Upstream: 8\.8\.8\.8, 8\.8\.4\.4\n {12}TTL: 1\n {8}Entries: 1\n$/);
    assert.equal(dnsText(WITH_DNS), 'db           10.32.0.7       0123456789ab 8a:3e:3e:3e:3e:3e\n');
    assert.equal(dnsText(FRESH), undefined, 'off: the template error');
    const report = JSON.parse(reportJson(WITH_DNS)) as {DNS: Record<string, unknown>};
    assert.deepEqual(Object.keys(report.DNS), ['Domain', 'Upstream', 'Address', 'TTL', 'Entries']);
    assert.deepEqual((report.DNS.Entries as Record<string, unknown>[])[1], {Hostname: 'gone.weave.local.', Origin: '8a:3e:3e:3e:3e:3e', ContainerID: 'c2', Address: '10.32.0.8', Version: 1, Tombstone: 1700000000});
    assert.equal((JSON.parse(reportJson(FRESH)) as {DNS?: unknown}).DNS, undefined);
  });

  it('reads --dns-* flags, the original defaults, --no-dns, and refuses bad values naming the flag', () => {
    assert.deepEqual(config([]).dns, {domain: 'weave.local.', ttl: 1, fallbackTimeoutMs: 5000, resolvConf: '/etc/resolv.conf'});
    assert.deepEqual(config(['--dns-domain', 'Corp.Example', '--dns-ttl', '30', '--dns-listen-address', ':5353', '--dns-fallback-timeout', '1m30s']).dns, {
      domain: 'corp.example.',
      ttl: 30,
      fallbackTimeoutMs: 90_000,
      resolvConf: '/etc/resolv.conf',
      listen: {host: '0.0.0.0', port: 5353},
    });
    assert.equal(config(['--no-dns']).dns, undefined);
    assert.deepEqual(config(['--no-dns', '--dns-ttl', '5']).warnings, [], 'DNS flags are not ignored any more');
    for (const [argv, message] of [
      [['--dns-listen-address', 'localhost:53'], /^invalid --dns-listen-address "localhost:53"/],
      [['--dns-domain', 'a..b'], /^invalid --dns-domain "a\.\.b"/],
      [['--dns-ttl', '-1'], /^invalid --dns-ttl -1/],
      [['--dns-fallback-timeout', '2h'], /^invalid --dns-fallback-timeout "2h"/],
    ] as const) {
      assert.throws(() => config([...argv]), (error: unknown) => error instanceof RouterConfigError && message.test(error.message), argv.join(' '));
    }
  });
});
