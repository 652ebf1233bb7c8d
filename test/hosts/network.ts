/**
 * A virtual network of "hosts" for the multi-host suite: one Linux network namespace per host, each with a veth pair
 * whose other end sits on one bridge in the root namespace (where the test itself runs, like a client outside the
 * cluster). Every name starts with NAME_PREFIX so that the leftovers of a crashed earlier run can be found and removed.
 */
import { execFileSync, spawnSync } from 'node:child_process';

export const NAME_PREFIX = 'twxh';
export const BRIDGE = `${NAME_PREFIX}br`;
/** A private /24 nobody else on this machine uses; .1 is the bridge (the test's own address on the network). */
export const SUBNET = '10.231.77';
export const BRIDGE_ADDRESS = `${SUBNET}.1`;

export interface Host {
  name: string;
  /** The namespace. */
  ns: string;
  address: string;
  /** The root-namespace end of the host's veth pair (on the bridge). */
  hostSide: string;
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tryRun(cmd: string, args: string[]): void {
  spawnSync(cmd, args, { stdio: 'ignore' });
}

/**
 * Whether this machine lets us make namespaces, veths, a bridge and a tc drop filter (root, or CAP_NET_ADMIN, and the
 * kernel modules). Returns why not, or undefined when it does.
 */
export function whyNoNetworkNamespaces(): string | undefined {
  const probe = `${NAME_PREFIX}probe`;
  try {
    run('ip', ['netns', 'add', probe]);
    run('ip', ['netns', 'exec', probe, 'ip', 'link', 'set', 'lo', 'up']);
    addDropClass(probe, 'lo');
    return undefined;
  } catch (e) {
    return String((e as { stderr?: string }).stderr || (e as Error).message).trim();
  } finally {
    tryRun('ip', ['netns', 'del', probe]);
  }
}

/**
 * Removes every namespace and link of ours, from this run or a crashed one. A process still living in one of our
 * namespaces (only what an earlier run of this suite started can be there) is killed by its PID first: deleting a
 * namespace does not end the processes in it.
 */
export function removeStaleNetwork(): void {
  for (const line of run('ip', ['netns', 'list']).split('\n')) {
    const ns = line.split(' ')[0];
    if (!ns?.startsWith(NAME_PREFIX)) continue;
    const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
    for (const pid of pids
      .split('\n')
      .map(Number)
      .filter((n) => n > 0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    tryRun('ip', ['netns', 'del', ns]);
  }
  for (const line of run('ip', ['-o', 'link', 'show']).split('\n')) {
    const name = /^\d+: ([^:@]+)/.exec(line)?.[1];
    if (name?.startsWith(NAME_PREFIX)) tryRun('ip', ['link', 'del', name]);
  }
}

/** The bridge, up, with the root namespace's address on it. */
export function createBridge(): void {
  run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  run('ip', ['addr', 'add', `${BRIDGE_ADDRESS}/24`, 'dev', BRIDGE]);
  run('ip', ['link', 'set', BRIDGE, 'up']);
}

/** A host: a namespace whose `eth0` is on the bridge at `${SUBNET}.${lastOctet}`. */
export function createHost(name: string, lastOctet: number): Host {
  const ns = `${NAME_PREFIX}-${name}`;
  const hostSide = `${NAME_PREFIX}${name}`;
  const peer = `${NAME_PREFIX}${name}p`;
  const address = `${SUBNET}.${lastOctet}`;
  run('ip', ['netns', 'add', ns]);
  run('ip', ['link', 'add', hostSide, 'type', 'veth', 'peer', 'name', peer]);
  run('ip', ['link', 'set', hostSide, 'master', BRIDGE]);
  run('ip', ['link', 'set', hostSide, 'up']);
  run('ip', ['link', 'set', peer, 'netns', ns]);
  const inNs = (...args: string[]) => run('ip', ['netns', 'exec', ns, ...args]);
  inNs('ip', 'link', 'set', peer, 'name', 'eth0');
  inNs('ip', 'addr', 'add', `${address}/24`, 'dev', 'eth0');
  inNs('ip', 'link', 'set', 'eth0', 'up');
  inNs('ip', 'link', 'set', 'lo', 'up');
  return { name, ns, address, hostSide };
}

/**
 * On `dev` in namespace `ns`: an htb root whose default class (1:10) passes everything, and a class 1:20 whose queue
 * (pfifo, limit 0) holds nothing, so every packet a filter sends there is dropped. The probe builds the same, so a
 * kernel that cannot is found before any host starts.
 */
function addDropClass(ns: string, dev: string): void {
  const tc = (args: string) => run('ip', ['netns', 'exec', ns, 'tc', ...args.split(' ')]);
  tc(`qdisc add dev ${dev} root handle 1: htb default 10`);
  tc(`class add dev ${dev} parent 1: classid 1:10 htb rate 10gbit quantum 60000`);
  tc(`class add dev ${dev} parent 1: classid 1:20 htb rate 10gbit quantum 60000`);
  tc(`qdisc add dev ${dev} parent 1:20 handle 20: pfifo limit 0`);
}

/**
 * Drops (silently: no RST, no ICMP) every packet `host` sends to `target` — a partition between the two, while the
 * host still talks to everyone else. This kernel has neither netem nor tc actions, so: an htb root on the host's eth0
 * whose default class passes everything, and a u32 filter that sends packets for `target` to a class whose queue
 * (pfifo, limit 0) holds nothing — every one of them is dropped where it would have been queued.
 */
export function partition(host: Host, target: string): void {
  const tc = (...args: string[]) => run('ip', ['netns', 'exec', host.ns, 'tc', ...args]);
  addDropClass(host.ns, 'eth0');
  tc(
    'filter',
    'add',
    'dev',
    'eth0',
    'parent',
    '1:',
    'protocol',
    'ip',
    'prio',
    '1',
    'u32',
    'match',
    'ip',
    'dst',
    `${target}/32`,
    'flowid',
    '1:20',
  );
}

/** Packets `host` dropped on their way to a partitioned target so far (the drop class's counter). */
export function droppedPackets(host: Host): number {
  const out = run('ip', ['netns', 'exec', host.ns, 'tc', '-s', 'qdisc', 'show', 'dev', 'eth0']);
  const block = out.split('qdisc pfifo 20:')[1] ?? '';
  return Number(/dropped (\d+)/.exec(block)?.[1] ?? 0);
}

/** Ends the partition: the qdisc and its filter go. */
export function heal(host: Host): void {
  run('ip', ['netns', 'exec', host.ns, 'tc', 'qdisc', 'del', 'dev', 'eth0', 'root']);
}
