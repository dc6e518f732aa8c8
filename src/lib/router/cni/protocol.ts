/**
 * The warm CNI path's wire format, spoken by the launcher's clients (bin/weave-cni-client.pl,
 * and socat in bin/weave-cni-launcher.sh).
 *
 * Request: a line `weave-cni 2`, then fields, each `NAME LENGTH\n` followed by LENGTH bytes and
 * `\n`, ending with the field `END 0\n\n`. Values are taken as they are (a newline in one is
 * data, never a new field), each name at most once. Names: PLUGIN (weave-net | weave-ipam), the
 * CNI_* variables (empty means unset), CONFIG (the plugin's stdin), and how the client holds the
 * container's namespace: NETNS_HANDLE (`/proc/<client pid>/fd/<n>`), NETNS_ID (`dev:inode` of
 * that file as the client saw it) or NETNS_ERROR (`<errno> <text>` when the client could not
 * open CNI_NETNS).
 *
 * Answer: `cold\n` (the call needs what only the host has: run it there), or the plugin's exit
 * code on a line of its own then its stdout (a request refused before it began), or `ready\n`.
 * After `ready` the router waits for the client's `go\n` and only then runs the call, so a client
 * that gave up before sending `go` may run the call itself: it never runs twice. Once `go` is
 * sent, the answer is the exit code line and stdout, then the router closes.
 */
export const GREETING = 'weave-cni 2';

export const COLD = 'cold\n';
export const READY = 'ready\n';
export const GO = 'go\n';

/** Far above any real config (a prevResult included); below what could weigh on the router. */
export const MAX_REQUEST_BYTES = 1 << 20;

const FIELDS = ['PLUGIN', 'CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS', 'CNI_PATH', 'CONFIG', 'NETNS_HANDLE', 'NETNS_ID', 'NETNS_ERROR'] as const;
type Field = (typeof FIELDS)[number];

/** The CNI variables of a request, as the plugin would find them in its environment. */
export const CNI_VARS = ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS', 'CNI_PATH'] as const;

export interface CniRequest {
  plugin: string;
  /** Only the variables that were set (non-empty). */
  env: Partial<Record<(typeof CNI_VARS)[number], string>>;
  stdin: string;
  netnsHandle?: string;
  netnsId?: string;
  netnsError?: string;
}

/** Bytes that are not a request of this protocol: the connection is answered and closed. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(`malformed request on the warm CNI socket: ${message}`);
    this.name = 'ProtocolError';
  }
}

const HEADER = /^([A-Z_]{1,32}) (\d{1,10})$/;

/**
 * Reads one request from the chunks of a connection, refusing anything malformed or larger
 * than MAX_REQUEST_BYTES as soon as it shows.
 */
export class RequestReader {
  private buffered = Buffer.alloc(0);
  private received = 0;
  private greeted = false;
  private readonly fields = new Map<Field, Buffer>();
  private request?: CniRequest;

  /** Feeds a chunk; the request once it is whole, then the bytes that followed it. */
  push(chunk: Buffer): {request: CniRequest; rest: Buffer} | undefined {
    if (this.request) throw new ProtocolError('data after the request');
    this.received += chunk.length;
    if (this.received > MAX_REQUEST_BYTES + 64) throw new ProtocolError(`larger than ${MAX_REQUEST_BYTES} bytes`);
    this.buffered = Buffer.concat([this.buffered, chunk]);
    for (;;) {
      const eol = this.buffered.indexOf(0x0a);
      if (eol < 0) {
        if (this.buffered.length > 64) throw new ProtocolError('a header line is too long');
        return undefined;
      }
      const line = this.buffered.subarray(0, eol).toString('latin1');
      if (!this.greeted) {
        if (line !== GREETING) throw new ProtocolError(`expected "${GREETING}"`);
        this.greeted = true;
        this.buffered = this.buffered.subarray(eol + 1);
        continue;
      }
      const header = HEADER.exec(line);
      if (!header) throw new ProtocolError(`bad field header "${line.slice(0, 40)}"`);
      const name = header[1]!;
      const length = Number(header[2]);
      if (length > MAX_REQUEST_BYTES) throw new ProtocolError(`field ${name} is larger than ${MAX_REQUEST_BYTES} bytes`);
      if (this.buffered.length < eol + 1 + length + 1) return undefined;
      const value = this.buffered.subarray(eol + 1, eol + 1 + length);
      if (this.buffered[eol + 1 + length] !== 0x0a) throw new ProtocolError(`field ${name} is not followed by a newline`);
      this.buffered = this.buffered.subarray(eol + 1 + length + 1);
      if (name === 'END') {
        if (length !== 0) throw new ProtocolError('END carries no value');
        this.request = this.complete();
        return {request: this.request, rest: this.buffered};
      }
      if (!(FIELDS as readonly string[]).includes(name)) throw new ProtocolError(`unknown field ${name}`);
      if (this.fields.has(name as Field)) throw new ProtocolError(`field ${name} given twice`);
      this.fields.set(name as Field, value);
    }
  }

  private complete(): CniRequest {
    const text = (name: Field) => this.fields.get(name)?.toString() ?? '';
    const env: CniRequest['env'] = {};
    for (const name of CNI_VARS) if (text(name)) env[name] = text(name);
    const request: CniRequest = {plugin: text('PLUGIN'), env, stdin: text('CONFIG')};
    if (text('NETNS_HANDLE')) request.netnsHandle = text('NETNS_HANDLE');
    if (text('NETNS_ID')) request.netnsId = text('NETNS_ID');
    if (text('NETNS_ERROR')) request.netnsError = text('NETNS_ERROR');
    return request;
  }
}

export function formatReply(exitCode: number, stdout: string): string {
  return `${exitCode}\n${stdout}`;
}
