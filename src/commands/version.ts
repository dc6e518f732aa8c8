import {RouterCommand} from '../lib/cli/router-command.js';
import {VERSION} from '../lib/package.js';

export default class Version extends RouterCommand {
  static override description = 'Print the version of weave, and of the router when one answers';
  static override examples = ['<%= config.bin %> version'];

  async run(): Promise<void> {
    const {flags} = await this.parse(Version);
    this.log(`weave script ${VERSION}`);
    let routerVersion: string;
    try {
      routerVersion = await this.client(flags['http-addr']).reportFormat('{{.Version}}');
    } catch {
      return; // no router (or not ours): the script's line is all there is to say
    }
    this.log(`weave ${routerVersion}`);
  }
}
