import {Args, Flags} from '@oclif/core';
import {NotFoundError} from '../lib/api/errors.js';
import {indentJson} from '../lib/cli/json-text.js';
import {RouterCommand, UsageError} from '../lib/cli/router-command.js';

/** What `--json` prints for each page: the part of the report it is drawn from. */
const JSON_TEMPLATES = new Map([
  ['', '{{json .}}'],
  ['targets', '{{json .Router.Targets}}'],
  ['connections', '{{json .Router.Connections}}'],
  ['peers', '{{json .Router.Peers}}'],
  ['ipam', '{{json .IPAM}}'],
]);

export default class Status extends RouterCommand {
  static override summary = "Show the router's status: version, peers, connections and IPAM, or one of them";

  static override description = `With no argument, the summary (with a blank line before and after it, as the original printed it). "targets" lists the peers given to launch and connect, "connections" the connections to other peers, "peers" every peer known and its connections, "ipam" how many addresses each peer owns. Fails (exit 1) until the router is ready, printing what it has so far to stderr.`;

  static override examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> status peers',
    '<%= config.bin %> status ipam',
    '<%= config.bin %> status connections --json',
    'WEAVE_HTTP_ADDR=127.0.0.1:6784 <%= config.bin %> status targets',
  ];

  static override strict = false;

  static override args = {
    page: Args.string({description: 'targets | connections | peers | ipam'}),
  };

  static override flags = {
    json: Flags.boolean({description: 'Print the JSON of the report the page is drawn from, instead of text (even before the router is ready: see "Ready")'}),
  };

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Status);
    const sub = argv as string[];
    const client = this.client(flags['http-addr']);
    const invalid = () => new UsageError(`Invalid 'weave status' sub-command: ${sub.join(' ')}`);
    if (flags.json) {
      const template = JSON_TEMPLATES.get(sub.join(' '));
      if (template === undefined) throw invalid();
      this.write(`${indentJson(await client.reportFormat(template))}\n`);
      return;
    }
    let body: string;
    try {
      body = await client.status(sub);
    } catch (error) {
      // The original answered an unknown page, and only that, with its usage: status exits 0 or 1.
      if (error instanceof NotFoundError) throw invalid();
      throw error;
    }
    this.write(sub.length === 0 ? `\n${body}\n` : body);
  }

  protected override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    // The original's status exits 0 or 1 only, even on a command line it cannot read.
    if (error.oclif?.exit === 2) {
      process.stderr.write(`${error.message}\n`);
      return this.exit(1);
    }
    return super.catch(error);
  }
}
