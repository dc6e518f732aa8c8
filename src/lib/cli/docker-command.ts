import {DockerOperatorError} from '../docker/errors.js';
import {LaunchUsageError} from '../docker/launch-args.js';
import {IpError} from '../net/ip.js';
import {SetupError} from '../setup/errors.js';
import {RouterCommand, UsageError} from './router-command.js';
import {noColorFlag, stderrColors} from './terminal.js';

/**
 * What the commands that drive Docker (launch, stop, reset) share on top of RouterCommand:
 * --no-color, warnings in yellow on stderr, and their failures printed once, in the
 * original's words where it had them, with its exit codes (3 already running, 2 another
 * container holds the name, 1 otherwise).
 */
export abstract class DockerCommand extends RouterCommand {
  static override baseFlags = {
    ...RouterCommand.baseFlags,
    'no-color': noColorFlag,
  };

  protected readonly colors = stderrColors();

  protected warning(line: string): void {
    process.stderr.write(`${this.colors.yellow(line)}\n`);
  }

  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    if (error instanceof LaunchUsageError) return super.catch(new UsageError(error.message));
    if (error instanceof DockerOperatorError || error instanceof SetupError || error instanceof IpError) {
      process.stderr.write(`${this.colors.red(error.message)}\n`);
      return this.exit(error instanceof DockerOperatorError ? error.exitCode : 1);
    }
    return super.catch(error);
  }
}
