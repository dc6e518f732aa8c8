import {noProxy} from '../lib/cli/proxy-env.js';
import {WeaveCommand} from '../lib/cli/weave-command.js';

export default class Config extends WeaveCommand {
  static override summary = "The original's -H flag for its Docker API proxy: there is no proxy here (exit 1)";

  static override description = `weave 2.8.1 printed "-H=<proxy>" for docker $(weave config) ... This weave has no Docker API proxy: it says so and exits 1.`;

  static override hidden = true;

  async run(): Promise<void> {
    await this.parse(Config);
    throw noProxy('config');
  }
}
