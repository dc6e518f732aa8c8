import * as packet from 'dns-packet';
import type {DnsEntries} from './entries.js';
import {forward} from './upstream.js';

const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;
/** RFC 1035: a UDP answer longer than this is truncated, unless EDNS offers more. */
const UDP_MAX = 512;

export interface ResolverOptions {
  /** Lower case, without the trailing dot: `weave.local`. */
  domain: string;
  ttl: number;
  upstream: () => readonly string[];
  fallbackTimeoutMs: number;
}

/** `4.3.2.1.in-addr.arpa` → `1.2.3.4`; undefined for any other name. */
function reverseAddress(name: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/i.exec(name);
  return m ? `${m[4]}.${m[3]}.${m[2]}.${m[1]}` : undefined;
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/**
 * Answers one DNS message: A and PTR for names on the network from `entries` (several
 * addresses of a name in random order, so that clients spread over them), other names
 * forwarded to the host's resolvers.
 */
export class DnsResolver {
  constructor(
    private readonly entries: DnsEntries,
    private readonly options: ResolverOptions,
  ) {}

  private inDomain(name: string): boolean {
    const lower = name.toLowerCase();
    return lower === this.options.domain || lower.endsWith(`.${this.options.domain}`);
  }

  /** The answer to `message`; undefined when it is not a query we can read (dropped, as a resolver does). */
  async answer(message: Buffer, tcp: boolean): Promise<Buffer | undefined> {
    let query: packet.Packet;
    try {
      query = packet.decode(message);
    } catch {
      return undefined;
    }
    const question = query.questions?.[0];
    if (query.type !== 'query' || !question) return undefined;
    const local = this.local(query, question);
    if (local) return this.fit(local, query, tcp);
    const answer = await forward(this.options.upstream(), message, tcp, this.options.fallbackTimeoutMs);
    return answer ?? packet.encode(this.reply(query, RCODE_SERVFAIL, []));
  }

  /** Our answer, or undefined when the name is not ours to answer. */
  private local(query: packet.Packet, question: packet.Question): packet.Packet | undefined {
    const {ttl} = this.options;
    const address = reverseAddress(question.name);
    if (address !== undefined) {
      if (question.type !== 'PTR') return undefined;
      const found = this.entries.reverse(address)[0];
      // A reverse name we hold nothing for is the outside world's (the original forwards it).
      if (!found) return undefined;
      return this.reply(query, 0, [{type: 'PTR', name: question.name, ttl, class: 'IN', data: found.hostname.replace(/\.$/, '')}]);
    }
    if (!this.inDomain(question.name)) return undefined;
    const found = this.entries.lookup(`${question.name}.`);
    if (found.length === 0) return this.reply(query, RCODE_NXDOMAIN, []);
    if (question.type !== 'A') return this.reply(query, 0, []);
    const addresses = shuffle([...new Set(found.map(e => e.address))]);
    return this.reply(query, 0, addresses.map(data => ({type: 'A', name: question.name, ttl, class: 'IN', data})));
  }

  private reply(query: packet.Packet, rcode: number, answers: packet.Answer[]): packet.Packet {
    const rd = (query.flags ?? 0) & packet.RECURSION_DESIRED;
    return {
      type: 'response',
      id: query.id ?? 0,
      flags: packet.AUTHORITATIVE_ANSWER | packet.RECURSION_AVAILABLE | rd | rcode,
      questions: query.questions ?? [],
      answers,
    };
  }

  /** Encodes, dropping answers and setting TC when a UDP answer would not fit (the client retries over TCP). */
  private fit(reply: packet.Packet, query: packet.Packet, tcp: boolean): Buffer {
    let encoded = packet.encode(reply);
    if (tcp) return encoded;
    const opt = query.additionals?.find((a): a is packet.OptAnswer => a.type === 'OPT');
    const limit = Math.max(UDP_MAX, opt?.udpPayloadSize ?? 0);
    const answers = [...(reply.answers ?? [])];
    while (encoded.length > limit && answers.length > 0) {
      answers.pop();
      encoded = packet.encode({...reply, flags: (reply.flags ?? 0) | packet.TRUNCATED_RESPONSE, answers});
    }
    return encoded;
  }
}
