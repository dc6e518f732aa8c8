#!/usr/bin/env node
const [command, ...rest] = process.argv.slice(2);

/** `weave version`, `status` and `ps` run without oclif when their command line allows (src/fast.ts says which). */
async function ranFast() {
  if (!['version', 'status', 'ps'].includes(command)) return false;
  const {runFast} = await import('../dist/cli/fast/fast.js');
  return runFast(command, rest);
}

// The router (the container's entrypoint) skips oclif, most of its start-up; its help stays oclif's.
// Both run bundled (npm run bundle): resolving ~170 modules cost each router ~60 ms of CPU.
if (command === 'router' && !rest.includes('--help')) {
  const {routerMain} = await import('../dist/lib/weave-router.mjs');
  await routerMain(rest);
} else if (!(await ranFast())) {
  const {main} = await import('../dist/cli/main.js');
  await main();
}
