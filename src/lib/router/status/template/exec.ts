import {formatValue, type GoValue, INVALID, int, isTrue, NIL, sortedKeys, str} from '../govalue.js';
import {FUNCS, TemplateExecError} from './funcs.js';
import type {Arg, ControlNode, Node, Pipe} from './parse.js';

/** Runs a parsed template over `data`, returning what it printed. */
export function execute(nodes: readonly Node[], data: GoValue): string {
  const state = new State(data);
  state.runList(nodes, data);
  return state.out.join('');
}

class State {
  readonly out: string[] = [];
  private readonly vars: {name: string; value: GoValue}[];

  constructor(data: GoValue) {
    this.vars = [{name: '$', value: data}];
  }

  runList(nodes: readonly Node[], dot: GoValue): void {
    const mark = this.vars.length;
    for (const node of nodes) this.run(node, dot);
    this.vars.length = mark;
  }

  private run(node: Node, dot: GoValue): void {
    switch (node.type) {
      case 'text':
        this.out.push(node.text);
        return;
      case 'action': {
        const value = this.pipe(node.pipe, dot);
        if (node.pipe.decl.length === 0) this.out.push(formatValue(value));
        return;
      }
      case 'if':
      case 'with': {
        const mark = this.vars.length;
        const value = this.pipe(node.pipe, dot);
        if (isTrue(value)) this.runList(node.list, node.type === 'with' ? value : dot);
        else if (node.elseList) this.runList(node.elseList, dot);
        this.vars.length = mark;
        return;
      }
      case 'range':
        this.range(node, dot);
        return;
    }
  }

  private range(node: ControlNode, dot: GoValue): void {
    const mark = this.vars.length;
    const value = this.pipe({...node.pipe, decl: []}, dot);
    const items: [GoValue, GoValue][] = (() => {
      switch (value.kind) {
        case 'slice':
          return value.items.map((item, i): [GoValue, GoValue] => [int(i), item]);
        case 'map':
          return sortedKeys(value.entries).map((k): [GoValue, GoValue] => [str(k), value.entries.get(k)!]);
        case 'int':
          return Array.from({length: Math.max(0, Number(value.value))}, (_, i): [GoValue, GoValue] => [int(i), int(i)]);
        case 'nil':
        case 'invalid':
          return [];
        default:
          throw new TemplateExecError(`range can't iterate over ${formatValue(value)}`);
      }
    })();
    const [first, second] = node.pipe.decl;
    for (const [key, item] of items) {
      const inner = this.vars.length;
      if (second !== undefined) this.vars.push({name: first!, value: key}, {name: second, value: item});
      else if (first !== undefined) this.vars.push({name: first, value: item});
      this.runList(node.list, item);
      this.vars.length = inner;
    }
    if (items.length === 0 && node.elseList) this.runList(node.elseList, dot);
    this.vars.length = mark;
  }

  private pipe(pipe: Pipe, dot: GoValue): GoValue {
    let value: GoValue | undefined;
    for (const cmd of pipe.cmds) value = this.command(cmd, dot, value);
    const result = value ?? INVALID;
    for (const name of pipe.decl) {
      if (pipe.assign) this.lookup(name).value = result;
      else this.vars.push({name, value: result});
    }
    return result;
  }

  private lookup(name: string): {name: string; value: GoValue} {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!;
    throw new TemplateExecError(`undefined variable: ${name}`);
  }

  private command(args: readonly Arg[], dot: GoValue, piped: GoValue | undefined): GoValue {
    const [head, ...rest] = args;
    if (head?.type === 'func') {
      const operands = rest.map(a => () => this.operand(a, dot));
      if (piped !== undefined) operands.push(() => piped);
      return this.call(head.name, operands);
    }
    if (rest.length > 0 || piped !== undefined) {
      throw new TemplateExecError(`can't give argument to non-function ${head ? describeArg(head) : ''}`);
    }
    return this.operand(head!, dot);
  }

  private call(name: string, operands: (() => GoValue)[]): GoValue {
    if (name === 'and' || name === 'or') {
      if (operands.length === 0) throw new TemplateExecError(`wrong number of args for ${name}: want at least 1 got 0`);
      // Short-circuit as Go 1.18+ does: stop at the first false (and) or true (or) argument.
      let value: GoValue = NIL;
      for (const operand of operands) {
        value = operand();
        if (isTrue(value) === (name === 'or')) return value;
      }
      return value;
    }
    return FUNCS[name]!(operands.map(o => o()));
  }

  private operand(arg: Arg, dot: GoValue): GoValue {
    switch (arg.type) {
      case 'dot':
        return dot;
      case 'field':
        return fields(dot, arg.names);
      case 'variable':
        return fields(this.lookup(arg.name).value, arg.names);
      case 'chain':
        return fields(this.pipe(arg.pipe, dot), arg.names);
      case 'literal':
        return arg.value;
      case 'nil':
        throw new TemplateExecError('nil is not a command');
      case 'func':
        return this.call(arg.name, []);
    }
  }
}

function fields(receiver: GoValue, names: readonly string[]): GoValue {
  let value = receiver;
  for (const name of names) value = field(value, name);
  return value;
}

function field(receiver: GoValue, name: string): GoValue {
  switch (receiver.kind) {
    case 'struct': {
      const value = receiver.fields[name];
      if (value === undefined) throw new TemplateExecError(`can't evaluate field ${name}`);
      return value;
    }
    case 'map':
      return receiver.entries.get(name) ?? INVALID;
    case 'nil':
      throw new TemplateExecError(`nil pointer evaluating .${name}`);
    default:
      throw new TemplateExecError(`can't evaluate field ${name} in type ${receiver.kind}`);
  }
}

function describeArg(arg: Arg): string {
  switch (arg.type) {
    case 'field':
      return `.${arg.names.join('.')}`;
    case 'variable':
      return [arg.name, ...arg.names].join('.');
    default:
      return arg.type;
  }
}
