import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import type {RouterClient} from '../lib/api/client.js';
import {HttpStatusError, RouterUnreachableError} from '../lib/api/errors.js';
import {parseInterval} from '../lib/cli/duration.js';
import {RouterCommand} from '../lib/cli/router-command.js';
import {checkStatusPage, STATUS_PAGES, statusPage} from '../lib/cli/status-page.js';
import type {WatchOptions} from '../lib/display/watch.js';
import {jsonFlag} from '../lib/cli/flags.js';

export default class Status extends RouterCommand {
  static override summary = "Show the router's status: version, peers, connections, IPAM and DNS, or one of them";

  static override description = `With no argument, the summary (with a blank line before and after it, as the original printed it). "targets" lists the peers given to launch and connect, "connections" the connections to other peers, "peers" every peer known and its connections, "dns" the names weaveDNS answers (name, address, container, origin peer), "ipam" how many addresses each peer owns. Fails (exit 1) until the router is ready, printing what it has so far to stderr.

With --watch, refreshes every --interval until Ctrl-C (exit 0): in place on a terminal, else one refresh after another, a blank line between (with --json, one JSON document per refresh). A router that is not ready or not running is shown as such, and the watch goes on.`;

  static override examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> status peers',
    '<%= config.bin %> status ipam',
    '<%= config.bin %> status connections --json',
    '<%= config.bin %> status --watch',
    '<%= config.bin %> status connections --watch --interval 500ms',
    'WEAVE_HTTP_ADDR=127.0.0.1:6784 <%= config.bin %> status targets',
  ];

  static override strict = false;

  static override enableJsonFlag = true;

  static override args = {
    page: Args.string({description: STATUS_PAGES.join(' | ')}),
  };

  // Offered by the shells; checked by run() itself, in the original's words (oclif's `options` would say it in its own).
  static override completionValues = {page: STATUS_PAGES};

  static override flags = {
    json: jsonFlag('Print the JSON of the report the page is drawn from, instead of text (even before the router is ready: see "Ready")'),
    watch: Flags.boolean({char: 'w', description: 'Refresh until Ctrl-C: in place on a terminal, else one refresh after another'}),
    interval: Flags.custom<number>({parse: async text => parseInterval(text)})({
      description: 'Time between refreshes of --watch: 2s, 500ms, 1m, or seconds [default: 2s]',
      dependsOn: ['watch'],
    }),
  };

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Status);
    const sub = argv as string[];
    checkStatusPage(sub);
    const client = this.client(flags['http-addr']);
    if (!flags.watch) {
      this.write(await statusPage(client, sub, flags.json));
      return;
    }
    const intervalMs = flags.interval ?? 2000;
    // Loaded only for --watch: its terminal library costs a plain `weave status` tens of ms.
    const {interruption, watch} = await import('../lib/display/watch.js');
    const interrupt = interruption();
    try {
      await watch(this.watchOptions(client, sub, flags.json, intervalMs, interrupt.signal));
    } finally {
      interrupt.dispose();
    }
  }

  private watchOptions(client: RouterClient, sub: string[], json: boolean, intervalMs: number, stop: AbortSignal): WatchOptions {
    return {
      intervalMs,
      title: `Every ${intervalMs / 1000}s: ${this.config.bin} status${sub.map(s => ` ${s}`).join('')}${json ? ' --json' : ''}`,
      bare: json,
      stop,
      frame: async () => {
        try {
          return await statusPage(client, sub, json);
        } catch (error) {
          // Not ready yet (503, with what it has so far) or not running: worth watching on.
          if (error instanceof HttpStatusError || error instanceof RouterUnreachableError) return `${error.message}\n`;
          throw error;
        }
      },
    };
  }
}
