import {ipamFor} from './ipam/select.js';
import type {Invocation} from './invocation.js';

/** GC (CNI 1.1): releases every address whose attachment is not in cni.dev/valid-attachments. */
export async function cmdGc(call: Invocation): Promise<void> {
  await ipamFor(call).gc(call);
}

/** STATUS (CNI 1.1): succeeds when an ADD would be able to allocate an address now. */
export async function cmdStatus(call: Invocation): Promise<void> {
  await ipamFor(call).status(call);
}
