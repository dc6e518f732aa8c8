/** The indentation of the router's own JSON (Go's MarshalIndent with four spaces). */
export const JSON_INDENT = '    ';

/**
 * Re-indents compact JSON text without parsing it, so numbers stay exactly as sent (a peer
 * UID is a uint64 that a JavaScript number would round).
 */
export function indentJson(compact: string, indent = JSON_INDENT): string {
  let out = '';
  let depth = 0;
  let inString = false;
  for (let i = 0; i < compact.length; i++) {
    const c = compact[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += compact[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    const next = compact[i + 1];
    switch (c) {
      case '"':
        inString = true;
        out += c;
        break;
      case '{':
      case '[':
        // An empty object or array stays on one line, as MarshalIndent writes it.
        if (next === '}' || next === ']') {
          out += c + next;
          i++;
        } else out += c + '\n' + indent.repeat(++depth);
        break;
      case '}':
      case ']':
        out += '\n' + indent.repeat(--depth) + c;
        break;
      case ',':
        out += ',\n' + indent.repeat(depth);
        break;
      case ':':
        out += ': ';
        break;
      case ' ':
      case '\n':
      case '\t':
      case '\r':
        break;
      default:
        out += c;
    }
  }
  return out;
}
