import type {RingToken} from './ring.js';

/** What the allocator persists: the ring, and who holds which addresses. */
export interface OwnedRecord {
  id: string;
  /** `a.b.c.d/len`, the length being the subnet's. */
  cidrs: string[];
  /** Allocated with check-alive: the id is a container whose death frees it. */
  container?: boolean;
  /** Allocated by the CNI plugin (`origin=cni`): CNI GC may free it. */
  cni?: boolean;
}

export interface PersistedState {
  ring: RingToken[];
  /** The peers the ring was first split between (absent in data written before issue 4). */
  seeds?: string[];
  owned: OwnedRecord[];
}

/** One change of the persisted state, appended to the log before any answer that depends on it. */
export type Mutation =
  | {t: 'add'; id: string; cidr: string; container: boolean; cni: boolean}
  | {t: 'free'; id: string; addr: string}
  | {t: 'delete'; id: string}
  | {t: 'ring'; ring: RingToken[]; seeds: string[]};

/**
 * While the disk is full, what a wait for durability does: `refuse` rejects at once with
 * IpamStoreFullError (a client's change, saved later once space returns), `read` resolves at
 * once (a read shows the state as it will be saved), `wait` waits for the space (ring changes,
 * which peers must not see before they are on disk).
 */
export type WhileFull = 'refuse' | 'read' | 'wait';

/**
 * Where mutations go. `append` only queues; `durable()` settles once everything appended so far
 * is on stable storage, and rejects for good once a write has failed. `roomError()` is asked
 * before a change a client wants: an error when the change could not be saved now.
 */
export interface IpamStore {
  append(mutation: Mutation): void;
  durable(whileFull?: WhileFull): Promise<void>;
  roomError(): Error | undefined;
  close(): Promise<void>;
}
