import {runInNetns} from '../../net/nsrun.js';
import {type Rule, ruleText} from './rules.js';

/** One `iptables-save` output: per table, its chains and each chain's rules in order. */
export class SavedRules {
  private readonly tables = new Map<string, Map<string, string[]>>();

  static parse(text: string): SavedRules {
    const saved = new SavedRules();
    let table: Map<string, string[]> | undefined;
    for (const line of text.split('\n')) {
      if (line.startsWith('*')) {
        table = new Map();
        saved.tables.set(line.slice(1).trim(), table);
      } else if (line.startsWith(':') && table) {
        table.set(line.slice(1).split(' ')[0]!, []);
      } else if (line.startsWith('-A ') && table) {
        const rest = line.slice(3);
        const space = rest.indexOf(' ');
        const chain = space < 0 ? rest : rest.slice(0, space);
        const rules = table.get(chain) ?? [];
        rules.push(space < 0 ? '' : rest.slice(space + 1));
        table.set(chain, rules);
      }
    }
    return saved;
  }

  hasChain(table: string, chain: string): boolean {
    return this.tables.get(table)?.has(chain) ?? false;
  }

  /** The rules of a chain as text after `-A CHAIN`; empty when it does not exist. */
  rules(table: string, chain: string): readonly string[] {
    return this.tables.get(table)?.get(chain) ?? [];
  }

  /** How many times the rule is present. */
  count(rule: Rule): number {
    const text = ruleText(rule);
    return this.rules(rule.table, rule.chain).filter(r => r === text).length;
  }

  chains(table: string): string[] {
    return [...(this.tables.get(table)?.keys() ?? [])];
  }
}

/**
 * An `iptables-restore --noflush` script, built table by table. Within a table, lines run in
 * the order given; each table commits as a whole, so a chain is never seen half rebuilt.
 */
export class RestoreScript {
  private readonly tables = new Map<string, string[]>();

  private lines(table: string): string[] {
    let lines = this.tables.get(table);
    if (!lines) this.tables.set(table, (lines = []));
    return lines;
  }

  /** Creates the chain, or empties it when it exists (what a `:CHAIN` line does under --noflush). */
  resetChain(table: string, chain: string): this {
    this.lines(table).push(`:${chain} - [0:0]`);
    return this;
  }

  append(rule: Rule): this {
    this.lines(rule.table).push(`-A ${rule.chain} ${ruleText(rule)}`);
    return this;
  }

  insert(rule: Rule, position: number): this {
    this.lines(rule.table).push(`-I ${rule.chain} ${position} ${ruleText(rule)}`);
    return this;
  }

  /** Deletes one occurrence, given as saved text (which must be present, or the script fails). */
  deleteText(table: string, chain: string, text: string): this {
    this.lines(table).push(`-D ${chain} ${text}`);
    return this;
  }

  deleteChain(table: string, chain: string): this {
    this.lines(table).push(`-F ${chain}`, `-X ${chain}`);
    return this;
  }

  get empty(): boolean {
    return [...this.tables.values()].every(lines => lines.length === 0);
  }

  toString(): string {
    return [...this.tables].map(([table, lines]) => [`*${table}`, ...lines, 'COMMIT', ''].join('\n')).join('');
  }
}

/**
 * iptables as the data plane drives it: one `iptables-save` to read everything, one
 * `iptables-restore --noflush` to apply a batch of changes, instead of a process per rule.
 */
export class Iptables {
  constructor(private readonly netns?: string) {}

  async save(): Promise<SavedRules> {
    const {stdout} = await runInNetns(this.netns, 'iptables-save', []);
    return SavedRules.parse(stdout);
  }

  async restore(script: RestoreScript): Promise<void> {
    if (script.empty) return;
    // -w: wait for the xtables lock (legacy backend) rather than fail while kube-proxy holds it.
    await runInNetns(this.netns, 'iptables-restore', ['-w', '--noflush'], {input: script.toString()});
  }
}
