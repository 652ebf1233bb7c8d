import { setFlagsFromString } from 'node:v8';

/**
 * V8 heap flags for a process whose old generation is mostly one big cache (issue #12: 1,000,000 entries in
 * ≤ 512 MiB RSS). Imported first by main.ts; both flags are read at every GC, so setting them at start-up is enough.
 *
 * - Heap growth: after a full GC V8 lets the old generation grow to up to 4× what survived before the next one (its
 *   cap for heaps limited at ≥ 2 GiB). Filling the cache promotes the short-lived objects of every batch in flight
 *   along with the new entries, so the heap ended the `memory` bench's fill at 450 MiB used of which a heap snapshot
 *   found 232 MiB live — where in that range it ends depends only on when the last full GC happened. 1.5× bounds
 *   it; steady traffic on a warm cache promotes almost nothing, so full GCs stay rare there.
 * - Allocation-site pretenuring: a literal site whose objects mostly survive a young GC is then allocated straight
 *   into the old generation. A batch call keeps its per-name rows, answers and maps alive across a database round
 *   trip, so one young GC in the middle tenures those sites and every later short-lived row lands in old space.
 */
setFlagsFromString('--heap-growing-percent=50');
setFlagsFromString('--no-allocation-site-pretenuring');
