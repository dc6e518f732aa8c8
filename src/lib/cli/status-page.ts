import {NotFoundError} from '../api/errors.js';
import type {RouterClient} from '../api/client.js';
import {ArgumentError} from '../errors.js';
import {indentJson} from '../display/json-text.js';
import {closestWord} from './suggest.js';

/** The pages of `weave status`, and for `--json` the part of the report each is drawn from. */
const JSON_TEMPLATES = new Map([
  ['', '{{json .}}'],
  ['targets', '{{json .Router.Targets}}'],
  ['connections', '{{json .Router.Connections}}'],
  ['peers', '{{json .Router.Peers}}'],
  ['dns', '{{json .DNS}}'],
  ['ipam', '{{json .IPAM}}'],
]);

/** The pages `weave status` takes, in the order the original's usage lists them. */
export const STATUS_PAGES = [...JSON_TEMPLATES.keys()].filter(page => page !== '');

/** The original's line, then the page meant (for a typo) or the pages there are: exit 1, as the original's usage. */
function invalid(sub: readonly string[]): ArgumentError {
  const meant = sub.length === 1 ? closestWord(sub[0]!, STATUS_PAGES) : undefined;
  const hint = meant ? `did you mean \`weave status ${meant}\`?` : `the pages are ${STATUS_PAGES.join(', ')}`;
  return new ArgumentError(`Invalid 'weave status' sub-command: ${sub.join(' ')}\n${hint}`);
}

/** Fails on a page that does not exist before asking the router (the original asked it, which answers 404). */
export function checkStatusPage(sub: readonly string[]): void {
  if (!JSON_TEMPLATES.has(sub.join(' '))) throw invalid(sub);
}

/**
 * What `weave status [page]` prints: the summary between a blank first and last line, a page
 * as the router sends it, or with `json` the report the page is drawn from.
 */
export async function statusPage(client: RouterClient, sub: readonly string[], json: boolean): Promise<string> {
  if (json) {
    const template = JSON_TEMPLATES.get(sub.join(' '));
    if (template === undefined) throw invalid(sub);
    return `${indentJson(await client.reportFormat(template))}\n`;
  }
  let body: string;
  try {
    body = await client.status(sub);
  } catch (error) {
    // The router answers an unknown page, and only that, with 404: a usage error, as in the original.
    if (error instanceof NotFoundError) throw invalid(sub);
    throw error;
  }
  return sub.length === 0 ? `\n${body}\n` : body;
}
