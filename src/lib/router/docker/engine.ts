import type Dockerode from 'dockerode';

/** A container as the check-alive watch sees it. */
export interface ContainerState {
  id: string;
  running: boolean;
}

/** The events the watch follows, as the original's Docker client: start, die, destroy. */
export type ContainerAction = 'start' | 'die' | 'destroy';

export interface ContainerEvent {
  id: string;
  action: ContainerAction;
}

/** What the router asks of the Docker engine (unit tests give a fake of it). */
export interface DockerEngine {
  /** Every container, running or not. */
  containers(): Promise<ContainerState[]>;
  /** Whether the container runs; undefined when the engine has no such container. */
  running(id: string): Promise<boolean | undefined>;
  /** Follows container events until `close` is called or the stream ends (`ended`, with the reason). */
  events(onEvent: (event: ContainerEvent) => void, ended: (error?: Error) => void): Promise<{close(): void}>;
}

const ACTIONS = new Set<string>(['start', 'die', 'destroy']);
const CALL_TIMEOUT_MS = 10_000;

/** dockerode options for --docker-api (unix:///path or tcp://host:port, as config.ts checked it). */
function connection(api: string): Dockerode.DockerOptions {
  if (api.startsWith('unix://')) return {socketPath: api.slice('unix://'.length), host: undefined};
  const url = new URL(api.replace(/^tcp:/, 'http:'));
  return {host: url.hostname, port: Number(url.port), protocol: 'http'};
}

/**
 * The engine at `api` through dockerode, imported on first use, after the router serves: it
 * costs ~250 ms to import, so the router's bundle leaves it out and its start does not wait.
 */
export function dockerEngine(api: string): DockerEngine {
  let client: Promise<Dockerode> | undefined;
  const engine = () => (client ??= import('dockerode').then(({default: Docker}) => new Docker(connection(api))));
  const bounded = <T>(call: (signal: AbortSignal) => Promise<T>) => call(AbortSignal.timeout(CALL_TIMEOUT_MS));
  return {
    async containers() {
      const docker = await engine();
      const list = await bounded(abortSignal => docker.listContainers({all: true, abortSignal}));
      return list.map(c => ({id: c.Id, running: c.State === 'running'}));
    },
    async running(id) {
      const docker = await engine();
      try {
        const info = await bounded(abortSignal => docker.getContainer(id).inspect({abortSignal}));
        return info.State.Running && !info.State.Restarting;
      } catch (error) {
        if ((error as {statusCode?: number}).statusCode === 404) return undefined;
        throw error;
      }
    },
    async events(onEvent, ended) {
      const docker = await engine();
      const stream = (await docker.getEvents({filters: {type: ['container'], event: [...ACTIONS]}})) as NodeJS.ReadableStream & {destroy(): void};
      let buffered = '';
      let closed = false;
      stream.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        // One JSON object per line; a chunk may end inside one.
        let newline;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (!line) continue;
          const event = JSON.parse(line) as {Action?: string; status?: string; id?: string; Actor?: {ID?: string}};
          const action = event.Action ?? event.status ?? '';
          const id = event.Actor?.ID ?? event.id;
          if (id && ACTIONS.has(action)) onEvent({id, action: action as ContainerAction});
        }
      });
      const finish = (error?: Error) => {
        if (closed) return;
        closed = true;
        ended(error);
      };
      stream.on('error', finish);
      stream.on('end', () => finish(new Error('the engine closed the event stream')));
      return {
        close() {
          closed = true;
          stream.destroy();
        },
      };
    },
  };
}
