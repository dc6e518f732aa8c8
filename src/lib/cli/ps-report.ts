import type {RouterClient} from '../api/client.js';
import {checkInterfaceName, checkNames} from './arguments.js';
import {listAttachments} from '../host/attachments.js';
import {jsonText} from './failure.js';

/**
 * What `weave ps [id...]` prints: one line (or JSON object) per attachment to the bridge. Run
 * by its command and by the fast path of bin/weave.js (src/fast.ts).
 */
export async function psReport(client: RouterClient, bridge: string, ids: readonly string[], json: boolean): Promise<string> {
  checkNames(ids, 'container id', 'ps');
  checkInterfaceName(bridge, '--weave-bridge', 'ps');
  const rows = await listAttachments(client, bridge, ids);
  if (json) return jsonText(rows);
  return rows.map(r => `${[r.id, r.mac, ...r.cidrs].join(' ')}\n`).join('');
}
