import {RouterCommand} from '../lib/cli/router-command.js';

export default class Prime extends RouterCommand {
  static override summary = 'Wait until IPAM can hand out addresses (the address ring exists)';

  static override description = `Returns at once on a single host. Exits 4 when IPAM is off (the router runs with --ipalloc-range "").`;

  static override examples = ['<%= config.bin %> prime'];

  async run(): Promise<void> {
    const {flags} = await this.parse(Prime);
    await this.client(flags['http-addr']).ring();
  }
}
