import assert from 'node:assert/strict';
import {metricsText} from '../../../../src/lib/router/status/metrics.js';
import {BUSY, FRESH, NO_IPAM} from '../../../helpers/router-states.js';

describe('/metrics (Prometheus text)', () => {
  it("gives the original's series, sorted by name then label values, with HELP and TYPE", () => {
    assert.equal(
      metricsText(BUSY),
      `# HELP weave_connection_terminations_total Number of peer-to-peer connections terminated.
# TYPE weave_connection_terminations_total counter
weave_connection_terminations_total 3
# HELP weave_connections Number of peer-to-peer connections.
# TYPE weave_connections gauge
weave_connections{encryption="",state="connecting",type="unknown"} 1
weave_connections{encryption="",state="established",type="fastdp"} 0
weave_connections{encryption="",state="established",type="sleeve"} 1
weave_connections{encryption="",state="failed",type="unknown"} 1
weave_connections{encryption="yes",state="connecting",type="unknown"} 0
weave_connections{encryption="yes",state="established",type="fastdp"} 1
weave_connections{encryption="yes",state="established",type="sleeve"} 0
weave_connections{encryption="yes",state="failed",type="unknown"} 0
# HELP weave_ipam_pending_allocates Number of pending allocates.
# TYPE weave_ipam_pending_allocates gauge
weave_ipam_pending_allocates 1
# HELP weave_ipam_pending_claims Number of pending claims.
# TYPE weave_ipam_pending_claims gauge
weave_ipam_pending_claims 1
# HELP weave_ipam_unreachable_count Number of unreachable peers.
# TYPE weave_ipam_unreachable_count gauge
weave_ipam_unreachable_count 1
# HELP weave_ipam_unreachable_percentage Percentage of IP addresses owned  by unreachable peers.
# TYPE weave_ipam_unreachable_percentage gauge
weave_ipam_unreachable_percentage 25
# HELP weave_ips Number of IP addresses.
# TYPE weave_ips gauge
weave_ips{state="local-used"} 5
# HELP weave_max_ips Size of IP address space used by allocator.
# TYPE weave_max_ips gauge
weave_max_ips 1.048576e+06
`,
    );
  });

  it('leaves out connection series without connections, and IPAM series without IPAM', () => {
    const fresh = metricsText(FRESH);
    assert.doesNotMatch(fresh, /^weave_connections/m);
    assert.match(fresh, /^weave_ips\{state="local-used"\} 0$/m);
    assert.equal(
      metricsText(NO_IPAM),
      '# HELP weave_connection_terminations_total Number of peer-to-peer connections terminated.\n' +
        '# TYPE weave_connection_terminations_total counter\n' +
        'weave_connection_terminations_total 0\n',
    );
  });

  it("adds the sleeve's counters per peer and direction, its broadcasts per peer, its drops by reason and the frames it relayed", () => {
    const sleeve = {
      peers: [{name: 'aa:90:00:00:00:02', sentFrames: 3, sentBytes: 300, receivedFrames: 2, receivedBytes: 200, floodedFrames: 5}],
      relayed: 7,
      dropped: {noPeer: 0, replayed: 1, unknownSession: 4},
    };
    const text = metricsText(NO_IPAM, sleeve);
    assert.ok(
      text.endsWith(`# HELP weave_sleeve_bytes_total Bytes of pod frames carried by the encrypted data path (sleeve).
# TYPE weave_sleeve_bytes_total counter
weave_sleeve_bytes_total{direction="received",peer="aa:90:00:00:00:02"} 200
weave_sleeve_bytes_total{direction="sent",peer="aa:90:00:00:00:02"} 300
# HELP weave_sleeve_dropped_total Frames and datagrams the encrypted data path dropped, by reason.
# TYPE weave_sleeve_dropped_total counter
weave_sleeve_dropped_total{reason="no_peer"} 0
weave_sleeve_dropped_total{reason="replayed"} 1
weave_sleeve_dropped_total{reason="unknown_session"} 4
# HELP weave_sleeve_flooded_frames_total Broadcasts and unknown unicast the encrypted data path sent to each peer: ours, and other peers' passed on down their spanning trees.
# TYPE weave_sleeve_flooded_frames_total counter
weave_sleeve_flooded_frames_total{peer="aa:90:00:00:00:02"} 5
# HELP weave_sleeve_frames_total Pod frames carried by the encrypted data path (sleeve).
# TYPE weave_sleeve_frames_total counter
weave_sleeve_frames_total{direction="received",peer="aa:90:00:00:00:02"} 2
weave_sleeve_frames_total{direction="sent",peer="aa:90:00:00:00:02"} 3
# HELP weave_sleeve_relayed_frames_total Frames the encrypted data path passed on between two peers with no connection to each other.
# TYPE weave_sleeve_relayed_frames_total counter
weave_sleeve_relayed_frames_total 7
`),
      text,
    );
    assert.doesNotMatch(metricsText(NO_IPAM), /weave_sleeve/, 'none without a sleeve');
  });

  it('has no DNS or flow series: this router has neither', () => {
    assert.doesNotMatch(metricsText(BUSY), /weave_dns_entries|weave_flows/);
  });
});
