import assert from 'node:assert/strict';
import {describe, it} from 'mocha';
import {type FdbEntry, FLOOD_MAC, type Remote} from '../../../src/lib/net/fdb.js';
import {SavedRules} from '../../../src/lib/router/dataplane/iptables.js';
import {planFdb, RemoteTargets, remoteKey} from '../../../src/lib/router/dataplane/overlay-plan.js';
import {installScript, removeScript} from '../../../src/lib/router/dataplane/plan.js';
import {baseRules} from '../../../src/lib/router/dataplane/rules.js';

// Pure logic of the overlay: which forwarding entries it wants, and the VXLAN guard's rules.

const flood = (dst: string, port?: number): FdbEntry => ({mac: FLOOD_MAC, dst, flags: ['self'], state: 'permanent', ...(port ? {port} : {})});
const learnt = (mac: string, dst: string): FdbEntry => ({mac, dst, flags: ['self']});
const targetOf = (...remotes: Remote[]) => new Map(remotes.map(r => [remoteKey(r), r]));

describe('overlay: forwarding entries and the VXLAN guard', () => {
  it('adds the missing remotes, removes the others and the MACs learnt behind them, and nothing when in step', () => {
    const current = [flood('10.0.0.2'), flood('10.0.0.3'), learnt('02:00:00:00:00:03', '10.0.0.3'), learnt('02:00:00:00:00:02', '10.0.0.2')];
    assert.deepEqual(planFdb(current, targetOf({dst: '10.0.0.2'}, {dst: '10.0.0.4', port: 7001})), [
      {op: 'del', mac: FLOOD_MAC, remote: {dst: '10.0.0.3'}},
      {op: 'del', mac: '02:00:00:00:00:03', remote: {dst: '10.0.0.3'}},
      {op: 'append', mac: FLOOD_MAC, remote: {dst: '10.0.0.4', port: 7001}},
    ]);
    assert.deepEqual(planFdb(current, targetOf({dst: '10.0.0.2'}, {dst: '10.0.0.3'})), []);
    // Another port is another remote; a MAC added by hand is left alone.
    const handMade = {...learnt('02:00:00:00:00:09', '10.0.0.9'), state: 'permanent'};
    assert.deepEqual(planFdb([flood('10.0.0.2', 7001), handMade], targetOf({dst: '10.0.0.2'})), [
      {op: 'del', mac: FLOOD_MAC, remote: {dst: '10.0.0.2', port: 7001}},
      {op: 'append', mac: FLOOD_MAC, remote: {dst: '10.0.0.2'}},
    ]);
  });

  it('holds a remote whose connection went, drops it when held too long or when its peer comes back refused', () => {
    const targets = new RemoteTargets(1000);
    const b = {dst: '10.0.0.2'};
    const c = {dst: '10.0.0.3'};
    assert.deepEqual([...targets.update([{remote: b, carried: true}, {remote: c, carried: false}], 0).keys()], ['10.0.0.2']);
    assert.equal(targets.nextExpiry(), undefined);
    // B's router restarts: its entry stays for the hold time, then goes.
    assert.deepEqual([...targets.update([], 100).keys()], ['10.0.0.2']);
    assert.equal(targets.nextExpiry(), 1100);
    assert.deepEqual([...targets.update([], 1099).keys()], ['10.0.0.2']);
    assert.deepEqual([...targets.update([], 1100).keys()], []);
    // Found at start, then the peer reconnects untrusted: gone at once.
    targets.hold(c, 2000);
    assert.deepEqual([...targets.update([], 2001).keys()], ['10.0.0.3']);
    assert.deepEqual([...targets.update([{remote: c, carried: false}], 2002).keys()], []);
    assert.equal(targets.nextExpiry(), undefined);
  });

  it('with a password, drops VXLAN from outside the trusted subnets at the top of INPUT; without, adds nothing', () => {
    const guarded = baseRules({bridge: 'weave', meshPort: 6783, overlaySources: ['192.168.90.0/24', '0.0.0.0/0']});
    const lines = installScript(SavedRules.parse(''), guarded, []).toString().split('\n');
    assert.deepEqual(
      lines.filter(l => /WEAVE-OVERLAY-IN|--dport 6784/.test(l)),
      [':WEAVE-OVERLAY-IN - [0:0]', '-A WEAVE-OVERLAY-IN -s 192.168.90.0/24 -j RETURN', '-A WEAVE-OVERLAY-IN -j RETURN', '-A WEAVE-OVERLAY-IN -j DROP', '-I INPUT 1 -p udp -m udp --dport 6784 -j WEAVE-OVERLAY-IN'],
    );
    const plain = baseRules({bridge: 'weave', meshPort: 6783});
    assert.doesNotMatch(installScript(SavedRules.parse(''), plain, []).toString(), /OVERLAY|6784/);
    // The password gone: the chain left by an earlier run is emptied, so the jump lets all by; reset removes both.
    const saved = SavedRules.parse('*filter\n:INPUT ACCEPT [0:0]\n:WEAVE-OVERLAY-IN - [0:0]\n-A INPUT -p udp -m udp --dport 6784 -j WEAVE-OVERLAY-IN\n-A WEAVE-OVERLAY-IN -j DROP\nCOMMIT\n');
    assert.match(installScript(saved, plain, []).toString(), /^:WEAVE-OVERLAY-IN - \[0:0\]\n(?!-A WEAVE-OVERLAY-IN)/m);
    const removal = removeScript(saved, plain, 'weave').toString();
    assert.match(removal, /^-D INPUT -p udp -m udp --dport 6784 -j WEAVE-OVERLAY-IN$/m);
    assert.match(removal, /^-F WEAVE-OVERLAY-IN\n-X WEAVE-OVERLAY-IN$/m);
  });
});
