import {versionReport} from '../lib/cli/version-report.js';
import {RouterCommand} from '../lib/cli/router-command.js';
import {jsonFlag} from '../lib/cli/flags.js';

export default class Version extends RouterCommand {
  static override description = 'Print the version of weave, and of the router when one answers';
  static override examples = ['<%= config.bin %> version', '<%= config.bin %> version --json'];

  static override enableJsonFlag = true;

  static override flags = {
    json: jsonFlag('Print {"script": <version>, "router": <version, or null when no router answers>} instead of text'),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Version);
    this.write(await versionReport(this.client(flags['http-addr']), flags.json));
  }
}
