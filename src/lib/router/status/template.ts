import type {GoValue} from './govalue.js';
import {execute} from './template/exec.js';
import {FUNC_NAMES} from './template/funcs.js';
import {type Node, parseTemplate} from './template/parse.js';

export {TemplateParseError} from './template/lex.js';
export {TemplateExecError} from './template/funcs.js';

/**
 * The subset of Go's text/template that `weave report -f` users write: field paths, `$`
 * variables, pipelines, if/else if/with/range/else/end, `{{- -}}` trimming, comments, and the
 * functions len, index, json, printf, print, println, eq, ne, lt, le, gt, ge, and, or, not.
 * Text outside actions is copied as it is, as Go does (a real newline, not `\n`).
 */
export class Template {
  private constructor(private readonly nodes: Node[]) {}

  /** Throws TemplateParseError with Go's `template: <name>:<line>: ...` message. */
  static parse(name: string, text: string): Template {
    return new Template(parseTemplate(name, text, FUNC_NAMES));
  }

  /** Throws TemplateExecError when a field is missing, a pointer is nil or a function fails. */
  execute(data: GoValue): string {
    return execute(this.nodes, data);
  }
}
