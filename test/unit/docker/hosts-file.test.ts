import assert from 'node:assert/strict';
import {containerFqdn} from '../../../src/lib/docker/container.js';
import {hostsFileContents, parseExtraHost} from '../../../src/lib/docker/hosts-file.js';
import {ArgumentError} from '../../../src/lib/errors.js';

describe('/etc/hosts of weave attach --rewrite-hosts (src/lib/docker/hosts-file.ts)', () => {
  it('reads --add-host <name>:<ip> as Docker does, and refuses anything else before contacting anything', () => {
    assert.deepEqual(parseExtraHost('db:10.32.0.5', 'attach'), {name: 'db', ip: '10.32.0.5'});
    assert.deepEqual(parseExtraHost('v6:fd00::1', 'attach'), {name: 'v6', ip: 'fd00::1'});
    for (const bad of ['db', ':10.0.0.1', 'db:', 'db:nowhere', 'a b:10.0.0.1', 'db:10.0.0.300']) {
      assert.throws(() => parseExtraHost(bad, 'attach'), (e: unknown) => e instanceof ArgumentError && e.message.startsWith(`invalid --add-host "${bad}" for 'weave attach'`), bad);
    }
  });

  it("writes the original's layout: the container's names on each weave address, the extra hosts, localhost", () => {
    const text = hostsFileContents('web.weave.local', ['10.32.0.1/12', '10.2.0.9/16'], [{name: 'db', ip: '10.32.0.5'}]);
    assert.equal(
      text,
      [
        '# created by Weave - BEGIN',
        '# container hostname',
        '10.32.0.1       web.weave.local web',
        '10.2.0.9        web.weave.local web',
        '',
        '# static names added with --add-host',
        '10.32.0.5       db',
        '',
        '# default localhost entries',
        '127.0.0.1       localhost',
        '::1             ip6-localhost ip6-loopback',
        'fe00::0         ip6-localnet',
        'ff00::0         ip6-mcastprefix',
        'ff02::1         ip6-allnodes',
        'ff02::2         ip6-allrouters',
        '# created by Weave - END',
        '',
      ].join('\n'),
    );
  });

  it('names a container without a domain by its hostname alone, and keeps a dotted hostname whole', () => {
    assert.match(hostsFileContents('web.', ['10.32.0.1/12'], []), /^10\.32\.0\.1 +web$/m);
    assert.match(hostsFileContents('web.eu.', ['10.32.0.1/12'], []), /^10\.32\.0\.1 +web\.eu web$/m);
  });
});

describe("a container's name for weaveDNS (src/lib/docker/container.ts containerFqdn)", () => {
  it('is <hostname>.<domainname> when that is fully qualified, as the original decides it', () => {
    assert.equal(containerFqdn({hostname: 'web', domainname: 'weave.local'}), 'web.weave.local');
    assert.equal(containerFqdn({hostname: 'web.eu', domainname: ''}), 'web.eu.');
    assert.equal(containerFqdn({hostname: 'web', domainname: ''}), undefined);
  });
});
