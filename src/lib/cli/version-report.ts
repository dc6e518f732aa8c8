import type {RouterClient} from '../api/client.js';
import {VERSION} from '../package.js';
import {jsonText} from './failure.js';

/**
 * What `weave version` prints: the script's version, and the router's when one answers. Run by
 * its command and by the fast path of bin/weave.js (src/fast.ts).
 */
export async function versionReport(client: RouterClient, json: boolean): Promise<string> {
  let router: string | null;
  try {
    router = await client.reportFormat('{{.Version}}');
  } catch {
    router = null; // no router (or not ours): the script's version is all there is to say
  }
  if (json) return jsonText({script: VERSION, router});
  return router === null ? `weave script ${VERSION}\n` : `weave script ${VERSION}\nweave ${router}\n`;
}
