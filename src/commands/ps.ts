import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import {UNKNOWN_MAC} from '../lib/host/attachments.js';
import {psReport} from '../lib/cli/ps-report.js';
import {RouterCommand} from '../lib/cli/router-command.js';
import {jsonFlag} from '../lib/cli/flags.js';

export default class Ps extends RouterCommand {
  static override summary = 'List what is attached to the weave bridge: id, MAC and addresses';

  static override description = `The first line is the bridge itself ("weave:expose"), then one line per Docker container attached with \`weave attach\` (its id, the MAC of its ethwe and its addresses), then one line per pod or container attached through the CNI plugin: its container id (12 characters, or as given), the MAC of its interface and its weave addresses. The MAC is read in the pod's network namespace when that has a name under /run/netns (podman, containerd, CRI-O); otherwise "${UNKNOWN_MAC}" is printed. No bridge, no output.`;

  static override examples = ['<%= config.bin %> ps', '<%= config.bin %> ps 1a2b3c4d5e6f', '<%= config.bin %> ps weave:expose', '<%= config.bin %> ps --json'];

  static override strict = false;

  static override args = {
    id: Args.string({description: 'container id, or the start of one, or weave:expose (repeatable)'}),
  };

  static override enableJsonFlag = true;

  static override flags = {
    json: jsonFlag('Print a JSON array of {id, mac, cidrs} instead of text'),
    'weave-bridge': Flags.string({description: 'Name of the weave bridge', default: 'weave'}),
  };

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Ps);
    this.write(await psReport(this.client(flags['http-addr']), flags['weave-bridge'], argv as string[], flags.json));
  }
}
