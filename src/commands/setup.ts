import {imageFlag} from '../lib/cli/flags.js';
import {CniSetupCommand} from '../lib/cli/cni-setup-command.js';
import {runSteps} from '../lib/display/task-list.js';
import {chooseImage} from '../lib/docker/image-ref.js';
import {VERSION} from '../lib/package.js';
import {HostSetup} from '../lib/docker/host-setup.js';

export default class Setup extends CniSetupCommand {
  static override summary = 'Install the weave CNI plugin and network config, and make sure the router image exists';

  static override description = `The CNI plugin (weave-net, weave-ipam) and 10-weave.conflist go where container runtimes find them; then the router image that \`weave launch\` runs is pulled when its name points at a registry that has it, else built here from the installed package (no registry needed). Progress goes to stderr, one line per change to stdout.

Without a Docker engine the CNI plugin is still installed, and a warning says how to start Docker (the original failed). \`weave setup-cni\` installs the CNI plugin alone.`;

  static override examples = [
    '<%= config.bin %> setup',
    '<%= config.bin %> setup --cni-bin-dir /usr/libexec/cni --cni-conf-dir /etc/cni/net.d',
    '<%= config.bin %> setup --cni-version 1.0.0',
    '<%= config.bin %> setup --image registry.example.com/weave-net:1.0.0',
    'WEAVE_CNI_PLUGIN_DIR=/usr/libexec/cni HAIRPIN_MODE=false <%= config.bin %> setup',
  ];

  static override flags = {
    ...CniSetupCommand.flags,
    image: imageFlag,
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Setup);
    // A bad image name fails here, before the CNI install changes anything.
    const setup = new HostSetup({...this.cniOptions(flags), image: chooseImage(flags.image, process.env, VERSION)});
    try {
      await runSteps(setup.steps());
    } finally {
      // The CNI install stays done when the image step fails: say what it did.
      if (setup.report) this.printReport(setup.report);
    }
    if (setup.imageWarning) this.warning(setup.imageWarning);
  }
}
