import * as Flags from '@oclif/core/flags';
import {RouterClient} from '../api/client.js';
import {DEFAULTS} from '../defaults.js';
import {WeaveCommand} from './weave-command.js';

/**
 * What every command that talks to the router shares: where its API is (--http-addr, else
 * WEAVE_HTTP_ADDR, else 127.0.0.1:6784). The `weave` script's exit codes for the answers are
 * the API errors' own (api/errors.ts): 4 on HTTP 404 (body dropped), 1 with the router's answer
 * on stderr for any other error status, 1 with what to do when no router answers.
 */
export abstract class RouterCommand extends WeaveCommand {
  static override baseFlags = {
    'http-addr': Flags.string({
      description: "Address of the router's HTTP API: host:port or a unix socket path",
      env: 'WEAVE_HTTP_ADDR',
      default: DEFAULTS.httpAddr,
      helpGroup: 'ROUTER',
    }),
  };

  protected client(addr: string): RouterClient {
    return new RouterClient(addr);
  }
}
