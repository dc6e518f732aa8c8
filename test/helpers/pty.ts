import {spawn} from 'node:child_process';

export interface PtyRun {
  /** Everything the program wrote to its terminal (stdout and stderr together). */
  output: string;
  exitCode: number;
}

export interface PtyAnswer {
  /** Sent once the output so far matches `when`. */
  when: RegExp;
  /** The text to type, or a function run at that moment (to change what the program shows) that returns it. */
  send: string | (() => string);
}

/**
 * Python's pty.fork: argv as an array (no shell), on a 120x40 terminal (a pty starts at 0x0,
 * which task-list renderers cannot draw in), its output copied to our stdout, our stdin to it.
 */
const PTY_SPAWN = `
import fcntl, os, pty, select, struct, sys, termios
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 120, 0, 0))
    os.execvp(sys.argv[1], sys.argv[1:])
reading = [fd, 0]
while fd in reading:
    for ready in select.select(reading, [], [])[0]:
        try:
            data = os.read(ready, 4096)
        except OSError:
            data = b''
        if ready == fd:
            if data: os.write(1, data)
            else: reading.remove(fd)
        elif data: os.write(fd, data)
        else: reading.remove(0)
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
`;

/**
 * Runs a program on a pseudo-terminal, so that it sees a TTY on stdin and stdout as an
 * operator's shell gives it, and types each answer when its prompt has appeared.
 */
export function runInPty(argv: readonly string[], env: Record<string, string>, answers: readonly PtyAnswer[], timeoutMs = 60_000): Promise<PtyRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', PTY_SPAWN, ...argv], {env: {...env, TERM: 'xterm'}, stdio: ['pipe', 'pipe', 'pipe']});
    let output = '';
    let next = 0;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      while (next < answers.length && answers[next]!.when.test(output)) {
        const {send} = answers[next++]!;
        child.stdin.write(typeof send === 'string' ? send : send());
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', code => {
      clearTimeout(timer);
      resolve({output, exitCode: code ?? -1});
    });
  });
}
