import {Command} from '@oclif/core';
import {VERSION} from '../lib/package.js';

export default class Version extends Command {
  static override description = 'Print the version of weave (and of the router, once one runs)';
  static override examples = ['<%= config.bin %> version'];

  async run(): Promise<void> {
    await this.parse(Version);
    this.log(`weave script ${VERSION}`);
  }
}
