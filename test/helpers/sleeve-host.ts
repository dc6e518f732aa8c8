/**
 * Runs a Sleeve in this process's network namespace (start it with nsenter), driven by one JSON
 * request per line on stdin, answered by one JSON line on stdout: what a router will do with the
 * module, without the router. Keys travel as base64.
 */
import {createInterface} from 'node:readline';
import {Sleeve, type SleeveOptions} from '../../src/lib/router/dataplane/sleeve/sleeve.js';

export type SleeveRequest =
  | {op: 'start'; options: SleeveOptions}
  | {op: 'addPeer'; name: string; address: string; send: string; receive: string; port?: number}
  | {op: 'removePeer'; name: string}
  | {op: 'stats'}
  | {op: 'stop'};

let sleeve: Sleeve | undefined;

function running(): Sleeve {
  if (!sleeve) throw new Error('the sleeve is not started');
  return sleeve;
}

async function handle(request: SleeveRequest): Promise<unknown> {
  switch (request.op) {
    case 'start':
      sleeve = await Sleeve.start(request.options);
      sleeve.on('failed', error => process.stderr.write(`sleeve failed: ${error.message}\n`));
      return {tap: sleeve.tap};
    case 'addPeer':
      return running().addPeer(request.name, request.address, {send: Buffer.from(request.send, 'base64'), receive: Buffer.from(request.receive, 'base64')}, request.port);
    case 'removePeer':
      return running().removePeer(request.name);
    case 'stats':
      return running().stats();
    case 'stop':
      await sleeve?.stop();
      sleeve = undefined;
      return null;
  }
}

for await (const line of createInterface({input: process.stdin})) {
  const request = JSON.parse(line) as SleeveRequest & {id: number};
  try {
    const result = await handle(request);
    process.stdout.write(JSON.stringify({id: request.id, result: result ?? null}) + '\n');
  } catch (error) {
    process.stdout.write(JSON.stringify({id: request.id, error: (error as Error).message}) + '\n');
  }
}
await sleeve?.stop();
