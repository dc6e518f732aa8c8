import {holdNetns} from '../net/netns.js';
import {runPlugin, type PluginName} from './skel.js';

/** The whole of stdin; empty when it is a terminal (run by hand, there is no config coming). */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

/** Serves one CNI call on this process's environment, stdin, stdout and exit code. */
export async function servePluginProcess(plugin: PluginName): Promise<void> {
  // Held open until we exit, as the launcher's client holds it for the router.
  const netns = process.env.CNI_NETNS ? holdNetns(process.env.CNI_NETNS) : {};
  const reply = await runPlugin(plugin, process.env, await readStdin(), {netns});
  process.stdout.write(reply.stdout);
  // The answer is whole: no need to wait for the `ip` of a DEL, still blocked while the kernel
  // frees the deleted link (deleteLinkPromptly). Writes to pipes and files are synchronous here.
  process.exit(reply.exitCode);
}
