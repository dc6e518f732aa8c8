import * as Args from '@oclif/core/args';
import {showHelp} from '../lib/cli/usage.js';
import {WeaveCommand} from '../lib/cli/weave-command.js';

/** `weave help [command]`: oclif's help, on stdout. Ours rather than @oclif/plugin-help's, which every start would load as a plugin. */
export default class Help extends WeaveCommand {
  static override summary = 'Show the help of weave, or of one of its commands';
  static override examples = ['<%= config.bin %> help', '<%= config.bin %> help status'];
  static override strict = false;
  static override args = {command: Args.string({description: 'The command to show the help of'})};

  async run(): Promise<void> {
    const {argv} = await this.parse(Help);
    await showHelp(this.config, argv as string[]);
  }
}
