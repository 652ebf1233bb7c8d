/**
 * A hostile upstream: the simulator, driven by tenant B, answering with data that claims what B does not own —
 * another account's twin UUID (to change, terminate or decorate it), another account as owner of a new twin, and
 * identities pushed onto those twins. Twindex must refuse every claim and report it in the run.
 */
import { randomUUID } from 'node:crypto';
import type { UpstreamSimulator } from './simulator.js';

export interface HostileClaims {
  /** A twin that exists here under the victim: upstream says it is B's, rewrites and terminates it. */
  hijackedTwin: string;
  /** A twin new here whose upstream owner is the victim's account. */
  plantedTwin: string;
  /** A plain twin of B, which must sync as usual (the control). */
  ownTwin: string;
  /** The identity B pushes onto the victim's twins, publicly visible. */
  identity: string;
}

export function stageHostileUpstream(
  sim: UpstreamSimulator,
  attacker: string,
  victim: string,
  victimTwin: string,
): HostileClaims {
  const identity = `RFID#${randomUUID()}`;
  const hijacked = sim.addTwin(attacker, { note: 'taken over' }, victimTwin);
  sim.setIdentity(hijacked.uuid, attacker, identity, { visibility: 'true' });
  sim.terminateTwin(hijacked.uuid);
  const planted = sim.addTwin(victim, { note: 'planted' });
  sim.setIdentity(planted.uuid, attacker, identity, { visibility: 'true' });
  const own = sim.addTwin(attacker, { note: 'mine' });
  sim.setIdentity(own.uuid, attacker, identity, { visibility: 'true' });
  return { hijackedTwin: hijacked.uuid, plantedTwin: planted.uuid, ownTwin: own.uuid, identity };
}
