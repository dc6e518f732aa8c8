// Regenerates completions/ from the compiled command tree: `npm run completions` builds first.
import {loadCommandTree} from './completion/command-tree.js';
import {writeCompletions} from './completion/scripts.js';

for (const path of await writeCompletions(await loadCommandTree())) console.log(`wrote ${path}`);
