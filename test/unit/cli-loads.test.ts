import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {PACKAGE_ROOT} from '../../src/lib/package.js';

/** esbuild's metafile of the CLI bundle (npm run build): which sources each file of dist/cli holds and what it imports. */
interface Metafile {
  outputs: Record<string, {imports: {path: string; kind: string; external?: boolean}[]; inputs: Record<string, unknown>}>;
}

/** What running `weave <id>` loads: the entry and the command, with everything they import statically (not what they import() when needed). */
function sourcesLoadedBy(meta: Metafile, id: string): string[] {
  return sourcesLoadedFrom(meta, ['dist/cli/main.js', `dist/cli/commands/${id}.js`]);
}

/** The sources of `files` and of everything they import statically. */
function sourcesLoadedFrom(meta: Metafile, files: string[]): string[] {
  const seen = new Set<string>();
  const stack = [...files];
  for (let file = stack.pop(); file !== undefined; file = stack.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const output = meta.outputs[file];
    assert.ok(output, `${file} is not in the bundle`);
    for (const i of output.imports) if (i.kind === 'import-statement' && !i.external) stack.push(i.path);
  }
  return [...seen].flatMap(file => [...Object.keys(meta.outputs[file]?.inputs ?? {}), ...(meta.outputs[file]?.imports ?? []).filter(i => i.external && i.kind === 'import-statement').map(i => i.path)]);
}

/** Libraries and folders that only the commands driving Docker, the setup or a terminal UI need. */
const HEAVY = [/node_modules\/(listr2|chalk|log-update|@inquirer|dockerode|execa)\//, /^(dockerode|listr2|chalk)$/, /^src\/lib\/(docker|setup)\//, /^src\/lib\/display\/(watch|task-list|terminal)\.ts$/];

describe('what a command loads (the CLI bundle, dist/cli)', () => {
  let meta: Metafile;
  before(() => {
    meta = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'dist', 'cli', 'meta.json'), 'utf8')) as Metafile;
  });

  for (const id of ['version', 'status', 'ps', 'report', 'connect', 'expose', 'completion', 'help']) {
    it(`weave ${id} loads no task list, colours, prompts, Docker client or setup code`, () => {
      const heavy = sourcesLoadedBy(meta, id).filter(source => HEAVY.some(pattern => pattern.test(source)));
      assert.deepEqual(heavy, []);
    });
  }

  it('weave launch does load them (else the check above proves nothing)', () => {
    const sources = sourcesLoadedBy(meta, 'launch');
    assert.ok(sources.some(source => source.includes('node_modules/listr2/')));
    assert.ok(sources.some(source => source.startsWith('src/lib/docker/')));
  });
});

describe('what the fast path of version, status and ps loads (dist/cli/fast)', () => {
  let meta: Metafile;
  before(() => {
    meta = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'dist', 'cli', 'fast', 'meta.json'), 'utf8')) as Metafile;
  });

  it('loads no oclif, and none of what only other commands need', () => {
    const sources = sourcesLoadedFrom(meta, ['dist/cli/fast/fast.js']);
    assert.ok(sources.includes('src/fast.ts'));
    assert.deepEqual(
      sources.filter(source => source.includes('node_modules/') || HEAVY.some(pattern => pattern.test(source))),
      [],
    );
  });

  it('ps reads the host over netlink, and loads node:child_process only for its fallback to ip', () => {
    const chunkOf = (source: string) => Object.keys(meta.outputs).find(file => !file.endsWith('.map') && source in meta.outputs[file]!.inputs);
    const ps = chunkOf('src/lib/cli/ps-report.ts');
    const fallback = chunkOf('src/lib/net/host-links-ip.ts');
    assert.ok(ps && fallback && ps !== fallback);
    const loaded = sourcesLoadedFrom(meta, [ps]);
    assert.ok(loaded.includes('src/lib/net/netlink/host-links.ts'));
    assert.ok(!loaded.includes('node:child_process'), 'the netlink path spawns nothing');
    assert.ok(sourcesLoadedFrom(meta, [fallback]).includes('node:child_process'));
  });

  it("leaves the bridge's modules to ps", () => {
    const sources = sourcesLoadedFrom(meta, ['dist/cli/fast/fast.js']);
    assert.ok(!sources.some(source => source.endsWith('/attachments.ts')));
    assert.ok(Object.values(meta.outputs).some(output => Object.keys(output.inputs).some(source => source.endsWith('/attachments.ts'))));
  });
});
