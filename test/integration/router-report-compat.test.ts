import assert from 'node:assert/strict';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import {originalFixture as fixture} from '../helpers/fixtures.js';
import {Netns} from '../helpers/netns.js';
import {requireRoot} from '../helpers/root.js';
import {RouterProcess} from '../helpers/router.js';

/**
 * Issue 13: /report and /metrics of a real router beside what weave 2.8.1 itself answered
 * (../shared/fixtures/weave-2.8.1, its README says how they were made), and DELETE /peer.
 */
type Json = null | boolean | number | string | Json[] | {[key: string]: Json};

/** JSON's kind of a value, telling null, lists and objects apart. */
const kind = (v: Json) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/**
 * Values that differ by nature, not by shape: our version, per-start ids, ring versions, the
 * time and set of MACs seen. Their kinds are still compared.
 */
const VARYING = [/^Version$/, /^Router\.Peers\.\d+\.(UID|ShortID)$/, /^IPAM\.Entries\.\d+\.Version$/, /^Router\.MACs\.\d+\.LastSeen$/];

/** Where this router differs from the original on purpose (README, "/report"): path, ours, why. */
const DIFFERENT: Record<string, string> = {
  'Router.Interface': 'no packet capture or ODP device: empty',
  'Router.CaptureStats': 'no packet capture: null',
  'Router.OverlayDiagnostics': 'fastdp (kernel VXLAN) and sleeve, without ODP diagnostics',
  'Router.MACs': 'the MACs the bridge learnt, not those the original router saw',
};

/** Every difference of key, kind or value between ours and theirs, as `path: why`. */
function differences(ours: Json, theirs: Json, path = ''): string[] {
  if (path in DIFFERENT) return [];
  if (kind(ours) !== kind(theirs)) return [`${path}: ${kind(ours)} here, ${kind(theirs)} in 2.8.1`];
  if (Array.isArray(ours) && Array.isArray(theirs)) {
    if (ours.length !== theirs.length) return [`${path}: ${ours.length} items here, ${theirs.length} in 2.8.1`];
    return ours.flatMap((item, i) => differences(item, theirs[i]!, `${path}.${i}`));
  }
  if (kind(ours) === 'object') {
    const [o, t] = [ours as Record<string, Json>, theirs as Record<string, Json>];
    const keys = (x: Record<string, Json>) => Object.keys(x).join(',');
    if (keys(o) !== keys(t)) return [`${path}: keys ${keys(o)} here, ${keys(t)} in 2.8.1`];
    return Object.keys(o).flatMap(k => differences(o[k]!, t[k]!, path ? `${path}.${k}` : k));
  }
  if (ours !== theirs && !VARYING.some(re => re.test(path))) return [`${path}: ${JSON.stringify(ours)} here, ${JSON.stringify(theirs)} in 2.8.1`];
  return [];
}

describe("/report, /metrics and DELETE /peer beside weave 2.8.1's own answers (issue 13)", function () {
  this.timeout(60_000);
  requireRoot();
  let ns: Netns;
  let router: RouterProcess;

  before(async () => {
    ns = Netns.create('wtr');
    // As the fixture's router: its name, nickname and range, without discovery or weaveDNS.
    router = await RouterProcess.start(ns, {args: ['--name', '0e:00:00:00:00:01', '--nickname', 'fx1', '--no-discovery', '--ipalloc-range', '10.32.0.0/12', '--no-dns']});
    // The fixture's five allocations and expose.
    for (const [method, path] of [['POST', '/ip/c1'], ['POST', '/ip/c2'], ['POST', '/ip/c3'], ['POST', '/ip/c4/10.40.0.0/24'], ['PUT', '/ip/c5/10.32.0.200/12'], ['POST', '/expose/10.32.0.100/12']] as const) {
      const [status] = router.api(method, path);
      assert.ok(status === 200 || status === 204, `${method} ${path}: ${status}`);
    }
  });
  after(async () => {
    await router?.destroy();
    ns?.delete();
  });

  const report = () => JSON.parse(ns.exec('curl', ['-sf', '-H', 'Accept: application/json', 'http://127.0.0.1:6784/report'])) as Json;

  it('/report has every field of the original, of the same kind (null where it says null) and value', () => {
    assert.deepEqual(differences(report(), JSON.parse(fixture('report.json')) as Json), []);
  });

  it('/report MACs: the bridge (our peer name) and the pods the bridge learnt', () => {
    const {Router} = report() as {Router: {MACs: {Mac: string; Name: string; NickName: string; LastSeen: string}[]}};
    assert.ok(Router.MACs.some(m => m.Mac === '0e:00:00:00:00:01' && m.Name === '0e:00:00:00:00:01' && m.NickName === 'fx1'), JSON.stringify(Router.MACs));
    const theirs = (JSON.parse(fixture('report.json')) as {Router: {MACs: object[]}}).Router.MACs[0]!;
    for (const m of Router.MACs) {
      assert.deepEqual(Object.keys(m), Object.keys(theirs));
      assert.match(m.LastSeen, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    }
  });

  it("/metrics: the original's process_* families, same help texts and types, parseable as Prometheus text", () => {
    const [status, body] = router.api('GET', '/metrics');
    assert.equal(status, 200);
    const ours = new Map(parsePrometheusTextFormat(body).map(f => [f.name, f]));
    const theirs = parsePrometheusTextFormat(fixture('metrics.txt')).filter(f => f.name.startsWith('process_'));
    assert.equal(theirs.length, 7);
    for (const family of theirs) {
      const mine = ours.get(family.name);
      assert.ok(mine, `no ${family.name}`);
      assert.deepEqual([mine.help, mine.type, mine.metrics.length], [family.help, family.type, 1], family.name);
      assert.ok(!Number.isNaN(Number(mine.metrics[0]!.value)), `${family.name} ${mine.metrics[0]!.value}`);
    }
    const value = (name: string) => Number(ours.get(name)!.metrics[0]!.value);
    assert.ok(value('process_open_fds') > 0 && value('process_open_fds') <= value('process_max_fds'));
    assert.ok(value('process_resident_memory_bytes') > 1e6 && value('process_virtual_memory_bytes') > value('process_resident_memory_bytes'));
    assert.ok(Math.abs(value('process_start_time_seconds') - Date.now() / 1000) < 600, 'started minutes ago at most');
    // The weave_* families of the fixture are all there too (bar DNS, which this router has not).
    for (const family of parsePrometheusTextFormat(fixture('metrics.txt')).filter(f => f.name.startsWith('weave_'))) {
      assert.deepEqual([ours.get(family.name)?.help, ours.get(family.name)?.type], [family.help, family.type], family.name);
    }
  });

  it('DELETE /peer with no peer to take over: the whole range shows unreachable, as the original', () => {
    assert.equal(router.api('DELETE', '/peer')[0], 204);
    const [status, ipam] = router.api('GET', '/status/ipam');
    assert.equal(status, 200);
    assert.equal(ipam, '00:00:00:00:00:00()                    1048576 IPs (100.0% of total) - unreachable!\n');
    const {IPAM} = report() as {IPAM: {Entries: {Peer: string; IsKnownPeer: boolean}[]}};
    assert.deepEqual(IPAM.Entries.map(e => [e.Peer, e.IsKnownPeer]), [['00:00:00:00:00:00', false]]);
  });
});
