/** A template that cannot be parsed; the message is Go's `template: <name>:<line>: <what>`. */
export class TemplateParseError extends Error {
  constructor(name: string, line: number, what: string) {
    super(`template: ${name}:${line}: ${what}`);
    this.name = 'TemplateParseError';
  }
}

export type Token =
  | {t: 'text'; value: string}
  | {t: 'open'}
  | {t: 'close'}
  | {t: 'space'}
  | {t: 'field'; value: string}
  | {t: 'dot'}
  | {t: 'var'; value: string}
  | {t: 'ident'; value: string}
  | {t: 'string'; value: string}
  | {t: 'number'; value: string}
  | {t: 'char'; value: string}
  | {t: 'lparen'}
  | {t: 'rparen'}
  | {t: 'pipe'}
  | {t: 'declare'}
  | {t: 'assign'}
  | {t: 'comma'};

export type Located = Token & {line: number};

const SPACE = /[ \t\r\n]/;

const NUMBER = /^[-+]?(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)/;

const ESCAPES: Record<string, string> = {a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'"};

/** Go's interpreted string literal (`"a\tb"`, `\x41`, `\u00e9`) to its value. */
export function unquote(literal: string): string {
  return literal.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)/g, (_m, e: string) => {
    if (/^[xuU]/.test(e)) return String.fromCodePoint(parseInt(e.slice(1), 16));
    if (/^[0-7]{3}$/.test(e)) return String.fromCharCode(parseInt(e, 8));
    const short = ESCAPES[e];
    if (short === undefined) throw new Error(`invalid escape \\${e}`);
    return short;
  });
}

/**
 * Splits a template into text and action tokens, as text/template's lexer does: `{{- ` and
 * ` -}}` trim the white space next to them, `{{/* … *\/}}` is a comment.
 */
export function lex(name: string, src: string): Located[] {
  const tokens: Located[] = [];
  let pos = 0;
  let line = 1;
  let trimNext = false;
  const fail = (what: string): never => {
    throw new TemplateParseError(name, line, what);
  };
  const push = (token: Token) => tokens.push({...token, line});

  while (pos < src.length) {
    const open = src.indexOf('{{', pos);
    let text = src.slice(pos, open < 0 ? src.length : open);
    const trimLeft = open >= 0 && src.startsWith('{{-', open) && SPACE.test(src[open + 3] ?? '');
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    if (trimLeft) text = text.replace(/[ \t\r\n]+$/, '');
    if (text) push({t: 'text', value: text});
    line += countLines(src.slice(pos, open < 0 ? src.length : open));
    if (open < 0) break;
    pos = open + (trimLeft ? 4 : 2);
    trimNext = false;

    if (src.startsWith('/*', pos)) {
      const end = src.indexOf('*/', pos);
      if (end < 0) fail('unclosed comment');
      line += countLines(src.slice(pos, end));
      pos = end + 2;
      const close = /^( -)?}}/.exec(src.slice(pos)) ?? fail('comment ends before closing delimiter');
      trimNext = close[1] !== undefined;
      pos += close[0].length;
      continue;
    }

    push({t: 'open'});
    for (;;) {
      if (pos >= src.length) fail('unclosed action');
      const rest = src.slice(pos);
      if (/^[ \t\r\n]-}}/.test(rest)) {
        trimNext = true;
        pos += 4;
        break;
      }
      if (rest.startsWith('}}')) {
        pos += 2;
        break;
      }
      const c = rest[0]!;
      let m: RegExpExecArray | null;
      if (SPACE.test(c)) {
        m = /^[ \t\r\n]+/.exec(rest)!;
        push({t: 'space'});
      } else if ((m = /^\.[A-Za-z_][A-Za-z0-9_]*/.exec(rest))) {
        push({t: 'field', value: m[0].slice(1)});
      } else if ((m = NUMBER.exec(rest))) {
        push({t: 'number', value: m[0]});
      } else if (c === '.') {
        m = /^\./.exec(rest)!;
        push({t: 'dot'});
      } else if ((m = /^\$[A-Za-z0-9_]*/.exec(rest))) {
        push({t: 'var', value: m[0]});
      } else if ((m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest))) {
        push({t: 'ident', value: m[0]});
      } else if (c === '"') {
        m = /^"(?:[^"\\\n]|\\.)*"/.exec(rest) ?? fail('unterminated quoted string');
        try {
          push({t: 'string', value: unquote(m[0])});
        } catch (error) {
          fail(`${(error as Error).message} in quoted string`);
        }
      } else if (c === '`') {
        m = /^`[^`]*`/.exec(rest) ?? fail('unterminated raw quoted string');
        push({t: 'string', value: m[0].slice(1, -1)});
      } else if (c === "'") {
        m = /^'(?:[^'\\\n]|\\.[^']*)'/.exec(rest) ?? fail('unterminated character constant');
        push({t: 'char', value: unquote(`"${m[0].slice(1, -1)}"`)});
      } else if ((m = /^:=/.exec(rest))) {
        push({t: 'declare'});
      } else if ((m = /^[=|(),]/.exec(rest))) {
        const kinds = {'=': 'assign', '|': 'pipe', '(': 'lparen', ')': 'rparen', ',': 'comma'} as const;
        push({t: kinds[m[0] as keyof typeof kinds]});
      } else {
        fail(`unexpected ${JSON.stringify(c)} in command`);
      }
      line += countLines(m![0]);
      pos += m![0].length;
    }
    push({t: 'close'});
  }
  return tokens;
}

function countLines(s: string): number {
  let n = 0;
  for (const c of s) if (c === '\n') n++;
  return n;
}

/** A token as parse errors name it. */
export function describeToken(token: Located): string {
  switch (token.t) {
    case 'close':
      return '"}}"';
    case 'rparen':
      return '")"';
    case 'lparen':
      return '"("';
    case 'comma':
      return '","';
    case 'declare':
      return '":="';
    case 'assign':
      return '"="';
    case 'pipe':
      return '"|"';
    case 'text':
      return 'text';
    case 'open':
      return '"{{"';
    case 'space':
      return 'space';
    case 'dot':
      return '"."';
    case 'field':
      return `<.${token.value}>`;
    case 'var':
    case 'ident':
    case 'number':
      return `<${token.value}>`;
    case 'string':
    case 'char':
      return JSON.stringify(token.value);
  }
}
