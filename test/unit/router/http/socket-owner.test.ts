import assert from 'node:assert/strict';
import {endianness} from 'node:os';
import type {Socket} from 'node:net';
import {ChangeGuard} from '../../../../src/lib/router/http/access.js';
import {ownerInTable, rowKey, type SocketOwner, type TcpEnds} from '../../../../src/lib/router/http/socket-owner.js';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

/** A row as the kernel prints it: local, remote, state, uid, inode. */
function row(sl: number, local: string, remote: string, state: string, uid: number, inode: number): string {
  return `${String(sl).padStart(4)}: ${local} ${remote} ${state} 00000000:00000000 00:00000000 00000000 ${String(uid).padStart(5)}        0 ${inode} 1 000000005e04eea6 20 4 30 10 -1\n`;
}

// The router at 127.0.0.1:6784 (0x1A80); clients at ephemeral ports.
const SERVER_V4 = '0100007F:1A80';
const ends = (remoteAddress: string, remotePort: number, localAddress = '127.0.0.1'): TcpEnds => ({remoteAddress, remotePort, localAddress, localPort: 6784});

describe('the owner of a connection\'s client end, from /proc/net/tcp and tcp6', () => {
  before(() => assert.equal(endianness(), 'LE', 'these rows are written as a little-endian kernel prints them'));

  const tcp =
    HEADER +
    row(0, '00000000:1A80', '00000000:0000', '0A', 0, 1001) + // the listener
    row(1, SERVER_V4, '0100007F:9157', '01', 0, 1002) + // the router's end of the connection from port 0x9157
    row(2, '0100007F:9157', SERVER_V4, '01', 1001, 1003) + // that client's end: uid 1001
    row(3, '0100007F:9158', SERVER_V4, '01', 0, 1004) + // root's client
    row(4, '0100007F:9159', SERVER_V4, '06', 0, 0) + // TIME_WAIT: uid 0 whoever it was
    row(5, '0100007F:915A', SERVER_V4, '05', 1001, 0); // FIN_WAIT2, closed by its owner

  it('finds the row whose local end is the client and remote end the server (not the server\'s own row, root\'s), and reads its uid', () => {
    assert.deepEqual(ownerInTable(tcp, rowKey(ends('127.0.0.1', 0x9157), 4)), {kind: 'local', uid: 1001});
    assert.deepEqual(ownerInTable(tcp, rowKey(ends('127.0.0.1', 0x9158), 4)), {kind: 'local', uid: 0});
    assert.deepEqual(ownerInTable(tcp, rowKey(ends('::ffff:127.0.0.1', 0x9157, '::ffff:127.0.0.1'), 4)), {kind: 'local', uid: 1001}, 'IPv4-mapped ends');
  });

  it('a socket no process holds (TIME_WAIT, orphaned) is closed, never root', () => {
    assert.deepEqual(ownerInTable(tcp, rowKey(ends('127.0.0.1', 0x9159), 4)), {kind: 'closed'});
    assert.deepEqual(ownerInTable(tcp, rowKey(ends('127.0.0.1', 0x915a), 4)), {kind: 'closed'});
  });

  it('a client not in the table is elsewhere (another host or namespace)', () => {
    assert.deepEqual(ownerInTable(tcp, rowKey(ends('10.0.0.5', 0x9157), 4)), {kind: 'elsewhere'});
    assert.deepEqual(ownerInTable(tcp, rowKey(ends('127.0.0.1', 0x9157, '127.0.0.2'), 4)), {kind: 'elsewhere'}, 'same client port, another server address');
    assert.deepEqual(ownerInTable('', rowKey(ends('127.0.0.1', 0x9157), 4)), {kind: 'elsewhere'});
  });

  it('reads tcp6 rows: ::1, and IPv4 clients of an IPv6 socket as ::ffff:a.b.c.d', () => {
    const LOOPBACK6 = '00000000000000000000000001000000';
    const MAPPED = '0000000000000000FFFF00000100007F';
    const tcp6 =
      HEADER +
      row(0, `${LOOPBACK6}:A001`, `${LOOPBACK6}:1A80`, '01', 1002, 2001) +
      row(1, `${MAPPED}:A002`, `${MAPPED}:1A80`, '01', 1003, 2002) +
      row(2, `000080FE000000000000020001000000:A003`, `000080FE000000000000020002000000:1A80`, '01', 1004, 2003);
    assert.deepEqual(ownerInTable(tcp6, rowKey(ends('::1', 0xa001, '::1'), 6)), {kind: 'local', uid: 1002});
    assert.deepEqual(ownerInTable(tcp6, rowKey(ends('127.0.0.1', 0xa002), 6)), {kind: 'local', uid: 1003});
    assert.deepEqual(ownerInTable(tcp6, rowKey(ends('fe80::2:0:0:1', 0xa003, 'fe80::2:0:0:2'), 6)), {kind: 'local', uid: 1004});
    assert.deepEqual(ownerInTable(tcp6, rowKey(ends('::1', 0xa002, '::1'), 6)), {kind: 'elsewhere'});
  });
});

describe('ChangeGuard: who may change the network through the API', () => {
  const socket = (remoteAddress?: string) => ({remoteAddress, remotePort: 40000, localAddress: '127.0.0.1', localPort: 6784}) as unknown as Socket;
  const guard = (owner: SocketOwner) => {
    const asked: TcpEnds[] = [];
    const g = new ChangeGuard(new Set([0]), {lookup: async ends => (asked.push(ends), owner)});
    return {g, asked};
  };

  it('lets root on this host change, and asks the kernel once per connection', async () => {
    const {g, asked} = guard({kind: 'local', uid: 0});
    const s = socket('127.0.0.1');
    assert.equal(await g.refusal(s), undefined);
    assert.equal(await g.refusal(s), undefined);
    assert.deepEqual(asked, [{remoteAddress: '127.0.0.1', remotePort: 40000, localAddress: '127.0.0.1', localPort: 6784}]);
    await g.refusal(socket('127.0.0.1'));
    assert.equal(asked.length, 2, 'another connection is looked up again');
  });

  it('refuses other local users, naming the uid and what they may do', async () => {
    const refusal = await guard({kind: 'local', uid: 1001}).g.refusal(socket('127.0.0.1'));
    assert.match(refusal!, /^permission denied: only root may change the weave network .*uid 1001, which may read status, report and metrics\); run weave as root$/);
  });

  it('refuses clients on other hosts or in containers, and clients that went away', async () => {
    assert.match((await guard({kind: 'elsewhere'}).g.refusal(socket('10.0.0.5')))!, /only from root on its own host, and 10\.0\.0\.5 is another host or container/);
    assert.match((await guard({kind: 'closed'}).g.refusal(socket('127.0.0.1')))!, /closed its connection before the router could tell which user/);
    assert.match((await guard({kind: 'local', uid: 0}).g.refusal(socket(undefined)))!, /closed its connection/, 'a socket without addresses is gone');
  });
});
