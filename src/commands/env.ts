import * as Flags from '@oclif/core/flags';
import {noProxy, restoreLine} from '../lib/cli/proxy-env.js';
import {WeaveCommand} from '../lib/cli/weave-command.js';

export default class Env extends WeaveCommand {
  static override summary = "The original's DOCKER_HOST for its Docker API proxy: there is no proxy here (exit 1)";

  static override description = `weave 2.8.1 printed "export DOCKER_HOST=<proxy>" for eval. This weave has no Docker API proxy: it says so and exits 1. --restore still prints the line that puts DOCKER_HOST back as it was before an earlier eval $(weave env).`;

  static override examples = ['eval $(<%= config.bin %> env --restore)'];

  static override hidden = true;

  static override flags = {
    restore: Flags.boolean({description: 'Print the line that restores DOCKER_HOST from ORIG_DOCKER_HOST'}),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Env);
    if (!flags.restore) throw noProxy('env');
    this.write(restoreLine(process.env));
  }
}
