import {RouterCommand} from './router-command.js';
import {noColorFlag, stderrColors} from '../display/terminal.js';

/**
 * What the commands that drive Docker (launch, stop, reset) share on top of RouterCommand:
 * --no-color and warnings in yellow on stderr. Their failures carry the original's words and
 * exit codes (3 already running, 2 another container holds the name, 1 otherwise).
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
}
