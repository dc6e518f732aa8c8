import assert from 'node:assert/strict';
import {marshal} from '../../../../src/lib/router/status/gojson.js';
import {formatGoFloat, formatValue, fromJs, int, NIL, str, strings, struct} from '../../../../src/lib/router/status/govalue.js';
import {reportJson} from '../../../../src/lib/router/status/report.js';
import {BUSY, FRESH, NO_IPAM} from '../../../helpers/router-states.js';

const FRESH_JSON = `{
    "Ready": true,
    "Version": "2.8.1",
    "VersionCheck": {
        "Enabled": false,
        "Success": false,
        "NewVersion": "",
        "NextCheckAt": "0001-01-01T00:00:00Z"
    },
    "Router": {
        "Protocol": "weave",
        "ProtocolMinVersion": 1,
        "ProtocolMaxVersion": 2,
        "Encryption": false,
        "PeerDiscovery": true,
        "Name": "8a:3e:3e:3e:3e:3e",
        "NickName": "host1",
        "Port": 6783,
        "Peers": [
            {
                "Name": "8a:3e:3e:3e:3e:3e",
                "NickName": "host1",
                "UID": 12345678901234567890,
                "ShortID": 4242,
                "Version": 1,
                "Connections": null
            }
        ],
        "UnicastRoutes": [
            {
                "Dest": "8a:3e:3e:3e:3e:3e",
                "Via": "00:00:00:00:00:00"
            }
        ],
        "BroadcastRoutes": [
            {
                "Source": "8a:3e:3e:3e:3e:3e",
                "Via": null
            }
        ],
        "Connections": null,
        "TerminationCount": 0,
        "Targets": null,
        "OverlayDiagnostics": {
            "fastdp": null,
            "sleeve": null
        },
        "TrustedSubnets": [],
        "Interface": "",
        "CaptureStats": null,
        "MACs": null
    },
    "IPAM": {
        "Paxos": null,
        "Range": "10.32.0.0/12",
        "RangeNumIPs": 1048576,
        "ActiveIPs": 0,
        "DefaultSubnet": "10.32.0.0/12",
        "Entries": null,
        "PendingClaims": null,
        "PendingAllocates": null
    }
}`;

describe('/report JSON', () => {
  it("is the original's WeaveStatus, MarshalIndent with 4 spaces, no newline at the end, null for lists it never appended to", () => {
    assert.equal(reportJson(FRESH), FRESH_JSON);
  });

  it('omits IPAM when it is off, and never has DNS, Proxy or Plugin', () => {
    const report = JSON.parse(reportJson(NO_IPAM)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(report), ['Ready', 'Version', 'VersionCheck', 'Router']);
  });

  it('keeps a uint64 peer UID exact', () => {
    assert.match(reportJson(FRESH), /"UID": 12345678901234567890,/);
  });

  it('carries connections with their attributes, null for targets without any', () => {
    const report = JSON.parse(reportJson(BUSY)) as {Router: {Connections: {Address: string; Attrs: unknown}[]}};
    assert.deepEqual(report.Router.Connections[0], {
      Address: '192.168.48.12:6783',
      Outbound: true,
      State: 'established',
      Info: 'encrypted   fastdp 7e:21:4a:70:2f:45(host2)',
      Attrs: {encrypted: true, mtu: 1410, name: 'fastdp'},
    });
    assert.equal(report.Router.Connections[3]!.Attrs, null);
  });

  it('fills IPAM entries, pending claims and allocates', () => {
    const {IPAM} = JSON.parse(reportJson(BUSY)) as {IPAM: Record<string, unknown>};
    assert.deepEqual(IPAM.Entries, [
      {Token: '10.32.0.0', Size: 524288, Peer: '8a:3e:3e:3e:3e:3e', Nickname: 'host1', IsKnownPeer: true, Version: 4},
      {Token: '10.40.0.0', Size: 262144, Peer: '7e:21:4a:70:2f:45', Nickname: 'host2', IsKnownPeer: true, Version: 2},
      {Token: '10.44.0.0', Size: 262144, Peer: '5e:01:02:03:04:05', Nickname: 'host4', IsKnownPeer: false, Version: 1},
    ]);
    assert.deepEqual(IPAM.PendingClaims, [{Ident: 'weave:expose', CIDR: '10.32.0.9/12'}]);
    assert.deepEqual(IPAM.PendingAllocates, ['c0ffee [10.32.0.0-10.48.0.0)']);
  });

  it('shows Paxos while awaiting consensus or priming, null otherwise', () => {
    const paxos = (status: string) => (JSON.parse(reportJson({...FRESH, ipam: {...FRESH.ipam!, status}})) as {IPAM: {Paxos: unknown}}).IPAM.Paxos;
    assert.deepEqual(paxos('awaiting consensus (quorum: 2, known: 1)'), {Elector: true, KnownNodes: 1, Quorum: 2});
    assert.deepEqual(paxos('priming'), {Elector: false, KnownNodes: 0, Quorum: 0});
    assert.equal(paxos('ready'), null);
  });
});

describe('Go values', () => {
  it('marshal escapes like encoding/json (HTML-safe, control characters)', () => {
    assert.equal(marshal(str('a"b\\c\n\t<x>&\u0001\u2028')), '"a\\"b\\\\c\\n\\t\\u003cx\\u003e\\u0026\\u0001\\u2028"');
  });

  it('marshal sorts map keys, keeps struct order, drops nil omitempty fields only', () => {
    assert.equal(marshal(fromJs({b: 1, a: [true, null], c: 1.5})), '{"a":[true,null],"b":1,"c":1.5}');
    assert.equal(marshal(struct({Z: int(1), A: NIL, B: NIL}, {omitNil: ['A']})), '{"Z":1,"B":null}');
    assert.equal(marshal(struct({L: strings([]), M: fromJs({})}), '  '), '{\n  "L": [],\n  "M": {}\n}');
  });

  it('marshals floats as encoding/json does', () => {
    assert.equal(marshal(fromJs(0.5)), '0.5');
    assert.equal(marshal(fromJs(1e21)), '1e+21');
    assert.equal(marshal(fromJs(1.5e-7)), '1.5e-7');
  });

  it("prints values as fmt's %v: slices, maps, nil, floats", () => {
    assert.equal(formatValue(strings(['a', 'b'])), '[a b]');
    assert.equal(formatValue(strings([])), '[]');
    assert.equal(formatValue(fromJs({b: 2, a: 'x'})), 'map[a:x b:2]');
    assert.equal(formatValue(NIL), '<nil>');
    assert.equal(formatValue(struct({A: int(1), B: strings(['x'])})), '{1 [x]}');
    assert.deepEqual([1048576, 100000, 12.5, 0.0001, 0.00001, 0].map(formatGoFloat), ['1.048576e+06', '100000', '12.5', '0.0001', '1e-05', '0']);
  });
});
