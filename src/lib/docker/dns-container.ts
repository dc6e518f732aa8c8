import {connectDocker} from './client.js';
import {containerFqdn} from './container.js';

/** A Docker container as weaveDNS names it: its full id, and its own name when fully qualified. */
export interface NamedContainer {
  id: string;
  fqdn?: string;
}

/** Docker's view of a container (by name, id or id prefix); undefined with no engine, or when it does not know it. */
export async function dockerContainer(nameOrId: string): Promise<NamedContainer | undefined> {
  let info;
  try {
    const {docker} = await connectDocker();
    info = await docker.getContainer(nameOrId).inspect();
  } catch {
    // No engine, or no such container: the router's allocations may know it (a CNI pod).
    return undefined;
  }
  const fqdn = containerFqdn({hostname: info.Config.Hostname, domainname: info.Config.Domainname});
  return {id: info.Id, ...(fqdn ? {fqdn} : {})};
}
