import {bool, type GoValue, int, str} from '../govalue.js';
import {describeToken as describe, type Located, lex, TemplateParseError} from './lex.js';

export interface Pipe {
  /** Variables declared (`$x :=`) or assigned (`$x =`) with the pipeline's value. */
  decl: string[];
  assign: boolean;
  cmds: Arg[][];
}

export type Arg =
  | {type: 'field'; names: string[]}
  | {type: 'dot'}
  | {type: 'variable'; name: string; names: string[]}
  | {type: 'func'; name: string}
  | {type: 'chain'; pipe: Pipe; names: string[]}
  | {type: 'literal'; value: GoValue}
  | {type: 'nil'};

export interface ControlNode {
  type: 'if' | 'with' | 'range';
  pipe: Pipe;
  list: Node[];
  elseList?: Node[];
  line: number;
}

export type Node = {type: 'text'; text: string} | {type: 'action'; pipe: Pipe; line: number} | ControlNode;

const UNSUPPORTED = new Set(['define', 'template', 'block', 'break', 'continue']);

/** Parses a template of the subset we serve, checking names of functions and variables as Go does. */
export function parseTemplate(name: string, src: string, funcs: ReadonlySet<string>): Node[] {
  return new Parser(name, lex(name, src), funcs).parseRoot();
}

class Parser {
  private pos = 0;
  /** Declared variables, innermost last; `$` is always there. */
  private readonly vars: string[] = ['$'];

  constructor(
    private readonly name: string,
    private readonly tokens: Located[],
    private readonly funcs: ReadonlySet<string>,
  ) {}

  parseRoot(): Node[] {
    const {list, end} = this.parseList();
    if (end) this.fail(`unexpected {{${end}}}`);
    return list;
  }

  private fail(what: string): never {
    const token = this.tokens[Math.min(this.pos, this.tokens.length - 1)];
    throw new TemplateParseError(this.name, token?.line ?? 1, what);
  }

  private peek(): Located | undefined {
    return this.tokens[this.pos];
  }

  private next(): Located {
    const token = this.tokens[this.pos++];
    if (!token) this.fail('unexpected EOF');
    return token;
  }

  private skipSpace(): void {
    while (this.peek()?.t === 'space') this.pos++;
  }

  private expectClose(context: string): void {
    this.skipSpace();
    const token = this.next();
    if (token.t !== 'close') this.fail(`unexpected ${describe(token)} in ${context}`);
  }

  /** Nodes up to `{{end}}` or `{{else}}` (returned as `end`) or the end of input. */
  private parseList(): {list: Node[]; end?: 'end' | 'else'} {
    const list: Node[] = [];
    const mark = this.vars.length;
    try {
      for (;;) {
        const token = this.peek();
        if (!token) return {list};
        this.pos++;
        if (token.t === 'text') {
          list.push({type: 'text', text: token.value});
          continue;
        }
        // token.t === 'open'
        this.skipSpace();
        const word = this.peek();
        if (word?.t === 'ident' && (word.value === 'end' || word.value === 'else')) {
          this.pos++;
          if (word.value === 'end') this.expectClose('end');
          return {list, end: word.value};
        }
        if (word?.t === 'ident' && (word.value === 'if' || word.value === 'with' || word.value === 'range')) {
          this.pos++;
          list.push(this.parseControl(word.value, word.line));
          continue;
        }
        if (word?.t === 'ident' && UNSUPPORTED.has(word.value)) {
          this.fail(`{{${word.value}}} is not supported in weave's report templates`);
        }
        const line = word?.line ?? token.line;
        list.push({type: 'action', pipe: this.parsePipe('command', true), line});
      }
    } finally {
      this.vars.length = mark;
    }
  }

  private parseControl(kind: 'if' | 'with' | 'range', line: number): Node {
    const mark = this.vars.length;
    const pipe = this.parsePipe(kind, true, kind === 'range' ? 2 : 1);
    const {list, end} = this.parseList();
    let elseList: Node[] | undefined;
    if (end === 'else') {
      this.skipSpace();
      const chained = this.peek();
      if (chained?.t === 'ident' && chained.value === kind && kind !== 'range') {
        // `{{else if x}}` is an `if` inside the else branch that shares the outer {{end}}.
        this.pos++;
        elseList = [this.parseControl(kind, chained.line)];
      } else {
        this.expectClose('else');
        const rest = this.parseList();
        if (rest.end !== 'end') this.fail(rest.end ? 'expected end; found {{else}}' : 'unexpected EOF');
        elseList = rest.list;
      }
    } else if (end !== 'end') {
      this.fail('unexpected EOF');
    }
    this.vars.length = mark;
    return {type: kind, pipe, list, ...(elseList ? {elseList} : {}), line};
  }

  /** `[$x[, $y] :=|=] cmd | cmd ...` up to the closing `}}` (consumed) or `)` (not consumed). */
  private parsePipe(context: string, allowDecl: boolean, maxVars = 1, inParens = false): Pipe {
    const decl: string[] = [];
    let assign = false;
    this.skipSpace();
    if (allowDecl && this.peek()?.t === 'var') {
      const start = this.pos;
      const names: string[] = [];
      for (;;) {
        const v = this.next();
        if (v.t !== 'var') break;
        names.push(v.value);
        this.skipSpace();
        const sep = this.peek();
        if (sep?.t === 'comma' && names.length < maxVars) {
          this.pos++;
          this.skipSpace();
          continue;
        }
        if (sep?.t === 'declare' || sep?.t === 'assign') {
          this.pos++;
          assign = sep.t === 'assign';
          decl.push(...names);
        }
        break;
      }
      if (decl.length === 0) this.pos = start;
      else if (assign) {
        for (const v of decl) if (!this.vars.includes(v)) this.fail(`undefined variable "${v}"`);
      }
    }
    const cmds: Arg[][] = [];
    for (;;) {
      this.skipSpace();
      const token = this.peek();
      if (!token) this.fail('unexpected EOF');
      if (token.t === 'close' || (inParens && token.t === 'rparen')) {
        if (cmds.length === 0) this.fail(`missing value for ${context}`);
        if (!inParens) this.pos++;
        break;
      }
      if (token.t === 'pipe') {
        if (cmds.length === 0) this.fail(`missing value for ${context}`);
        this.pos++;
        continue;
      }
      cmds.push(this.parseCommand(inParens));
    }
    if (!assign) this.vars.push(...decl);
    return {decl, assign, cmds};
  }

  private parseCommand(inParens: boolean): Arg[] {
    const args: Arg[] = [];
    for (;;) {
      this.skipSpace();
      const token = this.peek();
      if (!token || token.t === 'close' || token.t === 'pipe' || (inParens && token.t === 'rparen')) break;
      args.push(this.parseOperand());
      const after = this.peek();
      if (after && after.t !== 'space' && after.t !== 'close' && after.t !== 'pipe' && after.t !== 'rparen') {
        this.fail(`unexpected ${describe(after)} in operand`);
      }
    }
    if (args.length === 0) this.fail('empty command');
    return args;
  }

  private parseOperand(): Arg {
    const token = this.next();
    switch (token.t) {
      case 'field':
        return {type: 'field', names: [token.value, ...this.fieldChain()]};
      case 'dot':
        return {type: 'dot'};
      case 'var': {
        if (!this.vars.includes(token.value)) this.fail(`undefined variable "${token.value}"`);
        return {type: 'variable', name: token.value, names: this.fieldChain()};
      }
      case 'ident':
        if (token.value === 'true' || token.value === 'false') return {type: 'literal', value: bool(token.value === 'true')};
        if (token.value === 'nil') return {type: 'nil'};
        if (!this.funcs.has(token.value)) this.fail(`function "${token.value}" not defined`);
        return {type: 'func', name: token.value};
      case 'string':
        return {type: 'literal', value: str(token.value)};
      case 'char':
        return {type: 'literal', value: int(token.value.codePointAt(0) ?? 0)};
      case 'number':
        return {type: 'literal', value: numberValue(token.value) ?? this.fail(`illegal number syntax: ${JSON.stringify(token.value)}`)};
      case 'lparen': {
        const pipe = this.parsePipe('parenthesized pipeline', false, 1, true);
        const close = this.next();
        if (close.t !== 'rparen') this.fail('unclosed left paren');
        return {type: 'chain', pipe, names: this.fieldChain()};
      }
      default:
        this.fail(`unexpected ${describe(token)} in operand`);
    }
  }

  private fieldChain(): string[] {
    const names: string[] = [];
    for (let token = this.peek(); token?.t === 'field'; token = this.peek()) {
      names.push(token.value);
      this.pos++;
    }
    return names;
  }
}

function numberValue(text: string): GoValue | undefined {
  if (/^[-+]?0[xX]/.test(text)) return int(Number.parseInt(text, 16));
  const n = Number(text);
  if (Number.isNaN(n)) return undefined;
  if (/^[-+]?\d+$/.test(text)) return int(Number.isSafeInteger(n) ? n : BigInt(text));
  return {kind: 'float', value: n};
}
