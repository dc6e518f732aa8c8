import {RestoreScript, type SavedRules} from './iptables.js';
import {
  type BaseRules,
  CANARY_CHAIN,
  CANARY_TABLES,
  CONTROL_PORT_COMMENT,
  EXPOSE_CHAIN,
  exposeAcceptRule,
  NAT_CHAIN,
  natRules,
  OVERLAY_IN_CHAIN,
  type Rule,
  ruleText,
  type Table,
} from './rules.js';

/** An exposed network (as networkText gives it), and whether its traffic is masqueraded. */
export interface Exposure {
  network: string;
  nat: boolean;
}

/** The chains the router creates, per table: each goes away whole on tear-down. */
const OWN_CHAINS: Record<Table, string[]> = {
  filter: [EXPOSE_CHAIN, CANARY_CHAIN, OVERLAY_IN_CHAIN],
  nat: [NAT_CHAIN, CANARY_CHAIN],
  mangle: [CANARY_CHAIN],
};

const JUMP_TO_OWN = new RegExp(`(^| )-j (${[NAT_CHAIN, EXPOSE_CHAIN, CANARY_CHAIN, OVERLAY_IN_CHAIN].join('|')})( |$)`);

function exposureRules(exposure: Exposure): Rule[] {
  return [exposeAcceptRule(exposure.network), ...(exposure.nat ? natRules(exposure.network) : [])];
}

/** Puts `rules` at the top of their chain in this order, unless they already are, exactly once each. */
function ensureAtTop(script: RestoreScript, saved: SavedRules, rules: readonly Rule[]): void {
  if (rules.length === 0) return;
  const {table, chain} = rules[0]!;
  const texts = rules.map(ruleText);
  const current = saved.rules(table, chain);
  const atTop = texts.every((text, i) => current[i] === text);
  const once = texts.every(text => current.filter(r => r === text).length === 1);
  if (atTop && once) return;
  // Anything else (missing, moved, duplicated): take every copy out, then insert them in order.
  for (const text of current.filter(r => texts.includes(r))) script.deleteText(table, chain, text);
  rules.forEach((rule, i) => script.insert(rule, i + 1));
}

interface OwnChain {
  table: Table;
  chain: string;
  rules: Rule[];
}

function upToDate(saved: SavedRules, own: OwnChain): boolean {
  const current = saved.rules(own.table, own.chain);
  return saved.hasChain(own.table, own.chain) && current.length === own.rules.length && own.rules.every((rule, i) => current[i] === ruleText(rule));
}

/**
 * Start and flush recovery in one script: our chains rebuilt where their content differs from
 * what the exposed networks need (stale rules go, as with the original's flush at start), the
 * base rules put back where missing. Each chain is emptied and refilled inside the same commit,
 * so an exposed network is never left without its rules; a chain already right is left alone,
 * which keeps a restart from paying for a kernel flush.
 */
export function installScript(saved: SavedRules, base: BaseRules, exposures: readonly Exposure[]): RestoreScript {
  const networks = new Map(exposures.map(exposure => [exposure.network, exposure]));
  const rules = [...networks.values()].flatMap(exposureRules);
  const own: OwnChain[] = [
    {table: 'filter', chain: EXPOSE_CHAIN, rules: rules.filter(rule => rule.chain === EXPOSE_CHAIN)},
    {table: 'nat', chain: NAT_CHAIN, rules: rules.filter(rule => rule.chain === NAT_CHAIN)},
    ...CANARY_TABLES.map(table => ({table, chain: CANARY_CHAIN, rules: []})),
  ];
  // Emptied, not removed, when the password goes: the jump into it then lets everything by.
  if (base.overlayIn || saved.hasChain('filter', OVERLAY_IN_CHAIN)) own.push({table: 'filter', chain: OVERLAY_IN_CHAIN, rules: base.overlayIn ?? []});
  const stale = own.filter(chain => !upToDate(saved, chain));
  const script = new RestoreScript();
  // Declared before any rule so that the jumps below find them.
  for (const chain of stale) script.resetChain(chain.table, chain.chain);
  for (const chain of stale) for (const rule of chain.rules) script.append(rule);
  ensureAtTop(script, saved, base.forwardTop);
  ensureAtTop(script, saved, base.inputTop);
  for (const rule of base.appended) if (saved.count(rule) === 0) script.append(rule);
  return script;
}

/** Appends an exposed network's rules that are missing; idempotent. */
export function exposeScript(saved: SavedRules, exposure: Exposure): RestoreScript {
  const script = new RestoreScript();
  const created = new Set<string>();
  for (const rule of exposureRules(exposure)) {
    const key = `${rule.table} ${rule.chain}`;
    // Flushed away under us: recreate the chain now; the canary restores the jump into it.
    if (!saved.hasChain(rule.table, rule.chain) && !created.has(key)) {
      script.resetChain(rule.table, rule.chain);
      created.add(key);
    }
    if (saved.count(rule) === 0) script.append(rule);
  }
  return script;
}

/**
 * Deletes every copy of an exposed network's rules, the multicast RETURN included: the
 * original's client-side `hide` left that one behind.
 */
export function hideScript(saved: SavedRules, network: string): RestoreScript {
  const script = new RestoreScript();
  for (const rule of exposureRules({network, nat: true})) {
    const text = ruleText(rule);
    for (const r of saved.rules(rule.table, rule.chain)) if (r === text) script.deleteText(rule.table, rule.chain, r);
  }
  return script;
}

/**
 * Tear-down (`weave reset`): every base rule, every jump into our chains and the control-port
 * rule whatever its port, then our chains themselves. Only what is present is touched.
 */
export function removeScript(saved: SavedRules, base: BaseRules, bridge: string): RestoreScript {
  const script = new RestoreScript();
  const known = new Set([...base.forwardTop, ...base.appended].map(rule => `${rule.table} ${rule.chain} ${ruleText(rule)}`));
  // Added by the original's attach-bridge; reset removes it too.
  known.add(`nat POSTROUTING -o ${bridge} -j ACCEPT`);
  for (const table of Object.keys(OWN_CHAINS) as Table[]) {
    const own = OWN_CHAINS[table].filter(chain => saved.hasChain(table, chain));
    for (const chain of saved.chains(table)) {
      if (own.includes(chain)) continue;
      for (const text of saved.rules(table, chain)) {
        const ours = known.has(`${table} ${chain} ${text}`) || JUMP_TO_OWN.test(text) || text.includes(`--comment "${CONTROL_PORT_COMMENT}"`);
        if (ours) script.deleteText(table, chain, text);
      }
    }
    for (const chain of own) script.deleteChain(table, chain);
  }
  return script;
}

/**
 * Whether a network found on the bridge at start was exposed with masquerading: what the nat
 * chain shows, when there is one to look at; masquerading by default, as the original re-exposes.
 */
export function wasMasqueraded(saved: SavedRules, network: string): boolean {
  if (!saved.hasChain('nat', NAT_CHAIN)) return true;
  return natRules(network).every(rule => saved.count(rule) > 0);
}
