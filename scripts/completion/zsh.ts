import {type CompletionArg, type CompletionFlag, type CompletionNode, type CompletionTree, walk} from './command-tree.js';
import {identifier, shQuote} from './quote.js';

/**
 * The zsh completion script: one `_arguments` function per node of the tree; a node with
 * subcommands offers them with `_describe` and hands the rest of the line to the chosen one.
 */
export function zshCompletion(tree: CompletionTree): string {
  // Named as its file, which compinit autoloads as the function of that name.
  const fn = `_${tree.bin}`;
  const name = (node: CompletionNode): string => [fn, ...node.path.slice(1).map(identifier)].join('_');
  const functions = [...walk(tree.root)].map((node) => nodeFunction(node, name));

  return `#compdef ${tree.bin}
# zsh completion for ${tree.bin}: generated from its oclif commands by \`npm run completions\`; do not edit.
# Install: put this file (named ${fn}) in a directory on $fpath before compinit runs.

${functions.join('\n\n')}

# Autoloaded from $fpath this file is the body of ${fn}; sourced, it registers ${fn}.
if [[ $funcstack[1] == ${fn} ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${shQuote(tree.bin)}
fi
`;
}

function nodeFunction(node: CompletionNode, name: (node: CompletionNode) => string): string {
  const positional = node.children.length > 0 ? ['1: :->command', '*:: :->argument'] : node.args.map((arg, index) => argSpec(arg, index, node));
  const specs = [...node.flags.flatMap(flagSpecs), ...positional];
  const call = ['_arguments -C', ...specs.map(shQuote)].join(' \\\n    ');
  if (node.children.length === 0) return `${name(node)}() {\n  ${call}\n}`;

  const entries = node.children.map((child) => `        ${shQuote(`${child.path.at(-1)!.replaceAll(':', '\\:')}:${child.description}`)}`);
  const dispatch = node.children.map((child) => `        ${shQuote(child.path.at(-1)!)}) ${name(child)} ;;`);
  return `${name(node)}() {
  local curcontext=$curcontext state line
  ${call}
  case $state in
    command)
      local -a commands=(
${entries.join('\n')}
      )
      _describe -t commands ${shQuote(`${node.path.join(' ')} command`)} commands
      ;;
    argument)
      case $line[1] in
${dispatch.join('\n')}
      esac
      ;;
  esac
}`;
}

/** One spec per spelling; the spellings of a flag exclude one another unless it repeats. */
function flagSpecs(flag: CompletionFlag): string[] {
  const all = [...flag.long.map((l) => `--${l}`), ...flag.short.map((s) => `-${s}`)];
  const prefix = flag.repeatable ? '*' : all.length > 1 ? `(${all.join(' ')})` : '';
  const value = flag.takesValue ? `:${flag.long[0] ?? flag.short[0]}:${flag.values.length > 0 ? valueList(flag.values) : '_files'}` : '';
  const description = `[${flag.description.replaceAll(/[\\[\]]/g, '\\$&')}]`;
  // "--name=" and "-c+" take the value in the same word or the next one.
  const spelling = (s: string): string => (flag.takesValue ? (s.startsWith('--') ? `${s}=` : `${s}+`) : s);
  return all.map((s) => `${prefix}${spelling(s)}${description}${value}`);
}

/** A positional argument: its values, or only its name as a hint when it is free-form. */
function argSpec(arg: CompletionArg, index: number, node: CompletionNode): string {
  const position = node.variadic && index === node.args.length - 1 ? '*' : String(index + 1);
  return `${position}:${arg.name.replaceAll(':', '\\:')}:${arg.values.length > 0 ? valueList(arg.values) : ' '}`;
}

function valueList(values: string[]): string {
  return `(${values.map((v) => v.replaceAll(/[^A-Za-z0-9_.,/+@=-]/g, '\\$&')).join(' ')})`;
}
