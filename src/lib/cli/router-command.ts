import {Command, Flags} from '@oclif/core';
import {RouterClient} from '../api/client.js';
import {HttpStatusError, NotFoundError, RouterUnreachableError} from '../api/errors.js';
import {DEFAULT_HTTP_ADDR} from '../api/transport.js';
import {ArgumentError, OperatorError} from '../errors.js';
import {CommandError} from '../net/exec.js';
import {IpError} from '../net/ip.js';
import {RouterConfigError} from '../router/config.js';
import {printUsageToStderr} from './usage.js';

/** A command line the original answered with its usage text and exit 1. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure the original reported with a fixed text: printed as it is, then exit `exitCode`. */
export class CommandFailure extends OperatorError {}

/**
 * What every command that talks to the router shares: where its API is (--http-addr, else
 * WEAVE_HTTP_ADDR, else 127.0.0.1:6784) and the `weave` script's exit codes for its answers:
 * 4 on HTTP 404, 1 with the router's answer on stderr for any other error status, 1 with what
 * to do when no router answers; never without a line on stderr.
 */
export abstract class RouterCommand extends Command {
  static override baseFlags = {
    'http-addr': Flags.string({
      description: "Address of the router's HTTP API: host:port or a unix socket path",
      env: 'WEAVE_HTTP_ADDR',
      default: DEFAULT_HTTP_ADDR,
      helpGroup: 'ROUTER',
    }),
  };

  protected client(addr: string): RouterClient {
    return new RouterClient(addr);
  }

  /** Text exactly as given: no newline added (the script printed bodies as curl got them). */
  protected write(text: string): void {
    process.stdout.write(text);
  }

  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    if (error instanceof NotFoundError) {
      // The script's exit code 4, now with a word on stderr (it dropped the answer).
      process.stderr.write(`${error.message}\n`);
      return this.exit(4);
    }
    if (error instanceof HttpStatusError) {
      const said = error.body.trim() === '' ? error.message : error.body;
      process.stderr.write(said.endsWith('\n') ? said : `${said}\n`);
      return this.exit(1);
    }
    if (error instanceof CommandFailure || error instanceof ArgumentError) {
      process.stderr.write(`${error.message}\n`);
      return this.exit(error.exitCode);
    }
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n`);
      await printUsageToStderr(this.config);
      return this.exit(1);
    }
    if (error instanceof RouterUnreachableError || error instanceof RouterConfigError || error instanceof CommandError || error instanceof IpError) {
      return this.error(error.message, {exit: 1});
    }
    return super.catch(error);
  }
}
