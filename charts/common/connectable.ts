import { Connections, IConnectable } from '../connections';

/**
 * The flows of `peer` when it is `IConnectable` (a construct of this library; a service or
 * component made elsewhere has none, and admits its clients itself).
 */
export function connectionsOf(peer: object): Connections | undefined {
  const connections = (peer as Partial<IConnectable>).connections;
  return connections instanceof Connections ? connections : undefined;
}
