/**
 * IPAM alone, as its own process: the service and its HTTP routes over a db-prefix, without the
 * data plane. The crash tests kill it with SIGKILL mid-burst, and bench/ipam measures its rate
 * and resident memory, which an in-process service would share with the test runner.
 *
 *   node --import tsx test/helpers/ipam-standalone.ts --db-prefix DIR/weave [--range 10.32.0.0/12]
 *     [--name 8a:3e:3e:3e:3e:3e] [--port 0]
 *
 * Prints `{"port":N}` on stdout once it listens on 127.0.0.1; exits on SIGTERM.
 */
import {parseArgs} from 'node:util';
import {DEFAULTS} from '../../src/lib/defaults.js';
import {RouteTable} from '../../src/lib/router/http/routes.js';
import {createApiServer} from '../../src/lib/router/http/server.js';
import {keepHeapSmall} from '../../src/lib/router/heap.js';
import {createLogger} from '../../src/lib/router/log.js';
import {registerIpamRoutes, registerPeerRoutes} from '../../src/lib/router/ipam/http.js';
import {IpamService} from '../../src/lib/router/ipam/service.js';

const {values} = parseArgs({
  options: {
    'db-prefix': {type: 'string'},
    range: {type: 'string', default: '10.32.0.0/12'},
    name: {type: 'string', default: '8a:3e:3e:3e:3e:3e'},
    port: {type: 'string', default: '0'},
    'min-log-bytes': {type: 'string'},
  },
});
if (!values['db-prefix']) {
  process.stderr.write('usage: ipam-standalone.ts --db-prefix PREFIX [--range CIDR] [--name MAC] [--port N] [--min-log-bytes N]\n');
  process.exit(2);
}

// As the router: bench/ipam measures this process's memory for the router's.
keepHeapSmall();
const logger = createLogger('warning');
let service: IpamService;
try {
  service = await IpamService.open({
    range: values.range,
    peerName: values.name,
    nickname: 'standalone',
    logger,
    dbPrefix: values['db-prefix'],
    minLogBytes: values['min-log-bytes'] ? Number(values['min-log-bytes']) : undefined,
  });
} catch (error) {
  process.stderr.write(`standalone IPAM: ${(error as Error).message}\n`);
  process.exit(1);
}
const table = new RouteTable();
registerIpamRoutes(table, service, DEFAULTS.cniIpamWait * 1000);
registerPeerRoutes(table, service);
const server = createApiServer(table, () => undefined);
server.listen(Number(values.port), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({port: typeof address === 'object' && address ? address.port : 0})}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void service.close().then(() => process.exit(0));
});
