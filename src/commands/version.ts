import {JSON_INDENT} from '../lib/display/json-text.js';
import {RouterCommand} from '../lib/cli/router-command.js';
import {VERSION} from '../lib/package.js';
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
    let router: string | null;
    try {
      router = await this.client(flags['http-addr']).reportFormat('{{.Version}}');
    } catch {
      router = null; // no router (or not ours): the script's version is all there is to say
    }
    if (flags.json) this.write(`${JSON.stringify({script: VERSION, router}, null, JSON_INDENT)}\n`);
    else this.log(router === null ? `weave script ${VERSION}` : `weave script ${VERSION}\nweave ${router}`);
  }
}
