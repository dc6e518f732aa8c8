// Checks the import graph between the top-level folders of src/lib (api, cli, cni, docker, net,
// router, setup; a module directly in src/lib counts as a folder of its own): a cycle between
// folders means neither can be read, tested or moved without the other. Every import counts,
// `import type` and `import()` included. Any cycle fails `npm run lint`: move what both sides need
// into a folder both may import (src/lib/defaults.ts, net/, display/) rather than importing back.
//
//   npx tsx scripts/check-folder-cycles.ts [--graph]
import {readdirSync, readFileSync} from 'node:fs';
import {dirname, join, relative, resolve, sep} from 'node:path';
import {fileURLToPath} from 'node:url';

const LIB = resolve(dirname(fileURLToPath(import.meta.url)), '../src/lib');

/** `import ... from 'x'`, `export ... from 'x'`, `import 'x'`, `import('x')`. */
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)'(\.{1,2}\/[^']+)'/g;

function* tsFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* tsFiles(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

/** The top-level folder of a file under src/lib, or the file's own name for one directly in it. */
function folderOf(file: string): string {
  const [first, ...rest] = relative(LIB, file).split(sep);
  return rest.length === 0 ? first!.replace(/\.ts$/, '') : first!;
}

/** Folder edges with one import that makes each, for the report. */
function folderGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of tsFiles(LIB)) {
    const from = folderOf(file);
    if (!graph.has(from)) graph.set(from, new Map());
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = resolve(dirname(file), spec!.replace(/\.js$/, '.ts'));
      if (!target.startsWith(LIB + sep)) continue;
      const to = folderOf(target);
      if (to !== from && !graph.get(from)!.has(to)) graph.get(from)!.set(to, `${relative(LIB, file)} imports ${spec}`);
    }
  }
  return graph;
}

/** Strongly connected components with more than one folder (Tarjan). */
function cycles(graph: Map<string, Map<string, string>>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!indices.has(v)) visit(v);
  return found;
}

const graph = folderGraph();
if (process.argv.includes('--graph')) {
  for (const [from, edges] of [...graph].sort()) console.log(`${from} -> ${[...edges.keys()].sort().join(', ') || '(nothing)'}`);
}
const components = cycles(graph);
const cycleEdges: [string, string][] = [];
for (const component of components) {
  const members = new Set(component);
  for (const from of component) for (const [to, why] of graph.get(from)!) if (members.has(to)) cycleEdges.push([`${from} -> ${to}`, why]);
}
if (components.length > 0) {
  console.log(`folder cycles in src/lib: ${components.map(c => c.join(' <-> ')).join('; ')}`);
  for (const [edge, why] of cycleEdges) console.log(`  ${edge}  (${why})`);
  console.error('import cycle between folders of src/lib: move what both sides need into a folder both may import, rather than importing back.');
  process.exitCode = 1;
} else {
  console.log('no cycle between the folders of src/lib');
}
