#!/usr/bin/env node
const [command, ...rest] = process.argv.slice(2);

// The router (the container's entrypoint) skips oclif, most of its start-up; its help stays oclif's.
// It runs as one bundled file (npm run bundle): resolving ~170 modules cost each router ~60 ms of CPU.
if (command === 'router' && !rest.includes('--help')) {
  const {routerMain} = await import('../dist/lib/weave-router.mjs');
  await routerMain(rest);
} else {
  const {execute} = await import('@oclif/core');
  await execute({dir: import.meta.url});
}
