import {Config, type Command} from '@oclif/core';
import {getHelpFlagAdditions, HelpFormatter} from '@oclif/core/help';
import {PACKAGE_ROOT} from '../../src/lib/package.js';

/** A flag as the shells complete it. */
export interface CompletionFlag {
  /** Long spellings without their dashes: the name, its aliases and `no-<name>` when negatable. */
  long: string[];
  /** Single-letter spellings without the dash. */
  short: string[];
  description: string;
  takesValue: boolean;
  /** The fixed values it accepts; empty when free-form (the shells then offer file names). */
  values: string[];
  /** May be given more than once. */
  repeatable: boolean;
}

/** A positional argument, in the order the command reads them. */
export interface CompletionArg {
  name: string;
  description: string;
  /** The fixed values it accepts; empty when free-form (the shells then offer nothing). */
  values: string[];
}

/** A word of the command line: the root (`weave`), a topic or a command, with what may follow it. */
export interface CompletionNode {
  /** The words from the binary down, e.g. ['weave', 'status', 'peers']. */
  path: string[];
  description: string;
  flags: CompletionFlag[];
  args: CompletionArg[];
  /** The last argument repeats (oclif's `strict = false` or a `multiple` arg). */
  variadic: boolean;
  children: CompletionNode[];
}

export interface CompletionTree {
  bin: string;
  root: CompletionNode;
}

/** Fixed values per flag or argument name that a command class declares beside oclif's `options` (WeaveCommand.completionValues). */
type CompletionValues = Readonly<Record<string, readonly string[]>>;

/** Loads the package's oclif configuration (commands compiled in dist/) and builds its tree. */
export async function loadCommandTree(root: string = PACKAGE_ROOT): Promise<CompletionTree> {
  const config = await Config.load(root);
  const values = new Map<string, CompletionValues>();
  for (const command of config.commands) {
    if (command.hidden) continue;
    const loaded = (await command.load()) as {completionValues?: CompletionValues};
    values.set(command.id, loaded.completionValues ?? {});
  }
  return commandTree(config, values);
}

/** The visible commands of an oclif configuration as a tree of words, sorted so output is stable. */
export function commandTree(config: Config, completionValues: ReadonlyMap<string, CompletionValues> = new Map()): CompletionTree {
  const formatter = new HelpFormatter(config);
  const oneLine = (text: string | undefined): string => formatter.render(text ?? '').split('\n')[0].trim();
  const helpFlag = (what: string): CompletionFlag[] =>
    getHelpFlagAdditions(config).map((spelling) => booleanFlag(spelling, `Show help for ${what}`));

  const root = node([config.bin], oneLine(config.pjson.description));
  root.flags = [...helpFlag(config.bin), ...versionFlags(config)];

  for (const command of config.commands) {
    if (command.hidden) continue;
    for (const id of [command.id, ...command.aliases]) {
      const words = id.split(':');
      let parent = root;
      for (const [depth, word] of words.entries()) {
        let child = parent.children.find((c) => c.path.at(-1) === word);
        if (!child) {
          const topic = config.findTopic(words.slice(0, depth + 1).join(':'));
          child = node([...parent.path, word], oneLine(topic?.description));
          child.flags = helpFlag(child.path.join(' '));
          parent.children.push(child);
        }
        parent = child;
      }
      parent.description = oneLine(command.summary ?? command.description);
      const extra = completionValues.get(command.id) ?? {};
      const own = commandFlags(command, oneLine, extra);
      const taken = new Set(own.flatMap(spellings));
      // A command that declares its own help flag keeps it; oclif answers the others itself.
      parent.flags = [...own, ...helpFlag(parent.path.join(' ')).filter((flag) => !taken.has(spellings(flag)[0]))];
      const args = Object.values(command.args).filter((arg) => !arg.hidden);
      parent.args = args.map((arg) => ({name: arg.name, description: oneLine(arg.description), values: [...(arg.options ?? extra[arg.name] ?? [])]}));
      parent.variadic = command.strict === false || args.some((arg) => arg.multiple);
    }
  }
  sortTree(root);
  return {bin: config.bin, root};
}

/** Every node of the tree, parents before their children. */
export function* walk(tree: CompletionNode): Generator<CompletionNode> {
  yield tree;
  for (const child of tree.children) yield* walk(child);
}

function node(path: string[], description: string): CompletionNode {
  return {path, description, flags: [], args: [], variadic: false, children: []};
}

function booleanFlag(spelling: string, description: string): CompletionFlag {
  const long = spelling.startsWith('--') ? [spelling.slice(2)] : [];
  const short = long.length === 0 ? [spelling.replace(/^-/, '')] : [];
  return {long, short, description, takesValue: false, values: [], repeatable: false};
}

function versionFlags(config: Config): CompletionFlag[] {
  const names = new Set(['--version', ...(config.pjson.oclif.additionalVersionFlags ?? [])]);
  return [...names].map((spelling) => booleanFlag(spelling, `Show the version of ${config.bin}`));
}

/** A flag as typed: `--name`, `--alias`, `-c`. */
export function spellings(flag: CompletionFlag): string[] {
  return [...flag.long.map((l) => `--${l}`), ...flag.short.map((s) => `-${s}`)];
}

function commandFlags(command: Command.Loadable, oneLine: (text: string | undefined) => string, extra: CompletionValues): CompletionFlag[] {
  return Object.values(command.flags)
    .filter((flag) => !flag.hidden)
    .map((flag) => {
      const negatable = flag.type === 'boolean' && flag.allowNo;
      return {
        long: [flag.name, ...(flag.aliases ?? []), ...(negatable ? [`no-${flag.name}`] : [])],
        short: [...(flag.char ? [flag.char] : []), ...(flag.charAliases ?? [])],
        description: oneLine(flag.summary ?? flag.description),
        takesValue: flag.type === 'option',
        values: flag.type === 'option' ? [...(flag.options ?? extra[flag.name] ?? [])] : [],
        repeatable: flag.type === 'option' && Boolean(flag.multiple),
      };
    });
}

function sortTree(tree: CompletionNode): void {
  const spelling = (flag: CompletionFlag): string => flag.long[0] ?? flag.short[0];
  tree.flags.sort((a, b) => compare(spelling(a), spelling(b)));
  tree.children.sort((a, b) => compare(a.path.at(-1)!, b.path.at(-1)!));
  for (const child of tree.children) sortTree(child);
}

/** Code-point order, independent of the locale the generator runs in. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
