import * as Args from '@oclif/core/args';
import {Command} from '@oclif/core/command';
import * as Flags from '@oclif/core/flags';
import {ROUTER_FLAGS, type RouterFlagSpec} from '../lib/router/config.js';

const IGNORED_GROUP = 'WEAVE 2.8.1 (ACCEPTED, NO EFFECT HERE)';

function oclifFlag(spec: RouterFlagSpec) {
  const common = spec.ignored ? {description: `${spec.description} (ignored: ${spec.ignored})`, helpGroup: IGNORED_GROUP} : {description: spec.description};
  switch (spec.type) {
    case 'boolean':
      return Flags.boolean(common);
    case 'integer':
      return Flags.integer({...common, ...(spec.default === undefined ? {} : {default: spec.default})});
    case 'list':
      return Flags.string({...common, multiple: true});
    case 'duration':
      return Flags.string(common);
    case 'string':
      return Flags.string({...common, ...(spec.default === undefined ? {} : {default: spec.default})});
  }
}

/**
 * Declares the router's flags for `weave router --help`. bin/weave.js sends every other
 * `weave router` straight to routerMain without loading oclif; run() does the same here.
 */
export default class Router extends Command {
  static override hidden = true;
  static override strict = false;
  static override description = 'Run the weave router in the foreground (the entrypoint of the router container; also runs as a plain process)';
  static override examples = [
    '<%= config.bin %> router --nickname host1 --db-prefix /var/lib/weave/weave 192.168.1.12',
    'WEAVE_PASSWORD=secret <%= config.bin %> router --ipalloc-range 10.40.0.0/16 host2 host3',
  ];

  static override args = {peers: Args.string({description: 'peers to connect to: <ip_address_or_fqdn>[:<port>]', required: false})};

  static override flags = Object.fromEntries(Object.entries(ROUTER_FLAGS).map(([name, spec]) => [name, oclifFlag(spec)]));

  async run(): Promise<void> {
    // Loaded here: the help above needs only the flag table, not the router.
    const {routerMain} = await import('../lib/router/cli.js');
    await routerMain(this.argv);
  }
}
