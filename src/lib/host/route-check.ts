import {cidrsOverlap} from '../net/cidr.js';
import {ipBatch} from '../net/ip.js';
import {OperatorError} from '../errors.js';

export interface HostRoute {
  dst: string;
  dev?: string;
}

/** Routes of the main table that overlap `range`, leaving out the default route and the weave bridge's own (as `weaveutil netcheck`). */
export function overlappingRoutes(range: string, routes: readonly HostRoute[], bridge: string): HostRoute[] {
  return routes.filter(route => route.dst !== 'default' && route.dev !== bridge && cidrsOverlap(route.dst, range));
}

export async function hostRoutes(netns?: string): Promise<HostRoute[]> {
  const [routes] = await ipBatch([['route', 'show']], netns, ['-4']);
  return (routes ?? []) as HostRoute[];
}

export interface RangeCheck {
  /** Lines for stderr: the overlapping route, then the WARNING (a range the user chose). */
  warnings: string[];
}

/**
 * The original's check of the IPAM range against the host's routes: an overlap with the
 * default range stops the launch, one with a chosen range only warns, and an empty range
 * (IPAM off) is not checked.
 */
export function checkRange(range: string, chosen: boolean, routes: readonly HostRoute[], bridge: string): RangeCheck {
  if (range === '') return {warnings: []};
  const clash = overlappingRoutes(range, routes, bridge)[0];
  if (!clash) return {warnings: []};
  const found = `Network ${range} overlaps with existing route ${clash.dst} on host.`;
  if (!chosen) {
    throw new OperatorError(`${found}\nERROR: Default --ipalloc-range ${range} overlaps with existing route on host.\nYou must pick another range and set it on all hosts.`);
  }
  return {
    warnings: [found, `WARNING: Specified --ipalloc-range ${range} overlaps with existing route on host.`, 'Unless this is deliberate, you must pick another range and set it on all hosts.'],
  };
}
