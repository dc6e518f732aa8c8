import {formatCidr, type Span} from '../ipam/range.js';
import type {OwnedRecord} from '../ipam/records.js';
import type {RingToken} from '../ipam/ring.js';
import {openBolt} from './bolt.js';
import {decodeGob, GobError, type GobStruct, type GobValue} from './gob.js';

/**
 * What weave 2.8.1 kept in `<db-prefix>data.db` (its db/ package: a BoltDB file, bucket `top`,
 * one gob-encoded value per key), in our terms. Its keys: `version` (two raw bytes, major and
 * minor, 1.0), `peername` (mesh.PeerName), `ring` (ipam/ring.Ring), `ownedAddresses`
 * (map[string]ipam.ownedData) and `directPeers` ([]string, the targets `--resume` dials).
 */
export interface LegacyState {
  /** The peer that wrote it. */
  peer?: string;
  /** Absent when its IPAM never established a ring (then the original starts afresh too). */
  ring?: {span: Span; tokens: RingToken[]; seeds: string[]};
  owned: OwnedRecord[];
  directPeers: string[];
}

/** The file holds something other than what weave 2.8.1 writes; the message says what. */
export class LegacyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LegacyFormatError';
  }
}

const TOP_BUCKET = 'top';
const SUPPORTED_MAJOR = 1;

function bigint(v: GobValue | undefined, what: string): bigint {
  if (v === undefined) return 0n;
  if (typeof v !== 'bigint') throw new LegacyFormatError(`${what} is not an integer`);
  return v;
}

/** A uint32 field: addresses, versions, counts. */
function u32(v: GobValue | undefined, what: string): number {
  const n = bigint(v, what);
  if (n < 0n || n > 0xffffffffn) throw new LegacyFormatError(`${what} is out of range: ${n}`);
  return Number(n);
}

/** mesh.PeerName (its MAC flavour, 2.8.1's): 48 bits shown as a MAC address. */
function peerName(v: GobValue | undefined, what: string): string {
  const n = bigint(v, what);
  if (n < 0n || n >= 1n << 48n) throw new LegacyFormatError(`${what} is not a peer name: ${n}`);
  return n.toString(16).padStart(12, '0').replace(/..(?!$)/g, '$&:');
}

function list(v: GobValue | undefined, what: string): GobValue[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new LegacyFormatError(`${what} is not a list`);
  return v;
}

function record(v: GobValue | undefined, what: string): GobStruct {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v instanceof Map || Array.isArray(v) || Buffer.isBuffer(v)) throw new LegacyFormatError(`${what} is not a struct`);
  return v;
}

function ring(v: GobValue): LegacyState['ring'] {
  const r = record(v, 'the ring');
  const span = {start: u32(r.Start, 'the ring start'), end: u32(r.End, 'the ring end')};
  const tokens = list(r.Entries, 'the ring entries').map((e, i) => {
    const entry = record(e, `ring entry ${i}`);
    return {
      start: u32(entry.Token, `ring entry ${i} token`),
      peer: peerName(entry.Peer, `ring entry ${i} peer`),
      version: u32(entry.Version, `ring entry ${i} version`),
      free: u32(entry.Free, `ring entry ${i} free count`),
    };
  });
  if (tokens.length === 0) return undefined;
  return {span, tokens, seeds: list(r.Seeds, 'the ring seeds').map((s, i) => peerName(s, `ring seed ${i}`))};
}

function owned(v: GobValue): OwnedRecord[] {
  if (!(v instanceof Map)) throw new LegacyFormatError('the owned addresses are not a map');
  return [...v].map(([id, data]) => {
    if (typeof id !== 'string') throw new LegacyFormatError('an owned address has an id that is not a string');
    const d = record(data, `the addresses of ${id}`);
    const cidrs = list(d.Cidrs, `the addresses of ${id}`).map((c, i) => {
      const cidr = record(c, `address ${i} of ${id}`);
      const prefix = bigint(cidr.PrefixLen, `the prefix length of address ${i} of ${id}`);
      if (prefix < 0n || prefix > 32n) throw new LegacyFormatError(`address ${i} of ${id} has a prefix length of ${prefix}`);
      return formatCidr({addr: u32(cidr.Addr, `address ${i} of ${id}`), prefix: Number(prefix)});
    });
    return {id, cidrs, ...(d.IsContainer === true ? {container: true} : {})};
  });
}

/** Decodes one key's gob value, naming the key when it does not decode. */
function gobOf(key: string, bytes: Buffer | undefined): GobValue | undefined {
  if (bytes === undefined) return undefined;
  try {
    return decodeGob(bytes);
  } catch (error) {
    if (error instanceof GobError) throw new LegacyFormatError(`its "${key}" record does not decode: ${error.message}`);
    throw error;
  }
}

/** Reads weave 2.8.1's state file; throws BoltError or LegacyFormatError when it is not one. */
export function readLegacyState(file: Buffer): LegacyState {
  const top = openBolt(file).bucket(TOP_BUCKET);
  if (!top) throw new LegacyFormatError(`it has no "${TOP_BUCKET}" bucket, so weave did not write it`);
  const version = top.get('version');
  if (version && version[0] !== SUPPORTED_MAJOR) throw new LegacyFormatError(`its persistence version is ${[...version].join('.')}, not ${SUPPORTED_MAJOR}.x`);
  const name = gobOf('peername', top.get('peername'));
  const ringValue = gobOf('ring', top.get('ring'));
  const ownedValue = gobOf('ownedAddresses', top.get('ownedAddresses'));
  const peersValue = gobOf('directPeers', top.get('directPeers'));
  const state: LegacyState = {
    owned: ownedValue === undefined ? [] : owned(ownedValue),
    directPeers: list(peersValue, 'the peer list').map(p => {
      if (typeof p !== 'string') throw new LegacyFormatError('the peer list holds something other than addresses');
      return p;
    }),
  };
  const r = ringValue === undefined ? undefined : ring(ringValue);
  if (r) state.ring = r;
  if (name !== undefined) state.peer = peerName(name, 'the peer name');
  else if (ringValue !== undefined) state.peer = peerName(record(ringValue, 'the ring').Peer, 'the ring owner');
  return state;
}
