import type { IdentityRow } from '../domain/model.js';
import type { ChangeFeed } from './change-feed.js';
import { CoherentCache } from './coherent-cache.js';
import { MissBatcher } from './miss-batcher.js';
import {
  canPack,
  type PackedRow,
  PackedRowView,
  packedValidityTs,
  packRow,
  unpackRow,
} from './packed-row.js';
import { IdentityIndex } from '../store/identity-index.js';

export interface IdentityCacheOptions {
  maxEntries: number;
  maxBytes: number;
  ttlMs: number;
}

/**
 * The cached value for one name, built once when loaded and ready for the decision (rules compiled, owners
 * interned), kept small because a million of them must fit in a few hundred MiB: the commonest one-row name (private,
 * not a grant) as one packed string (packed-row.ts); any other rows as an array of row objects (empty: a negative
 * entry). Rows whose validity had already passed when loaded are left out: they can never resolve again without a
 * write, and a write evicts the entry.
 */
type Entry = PackedRow | readonly IdentityRow[];

// Heap cost per entry beyond its key, including the LRU's own bookkeeping (Map slot, key/value lists, links, size and
// TTL slots ≈ 90 bytes), measured with 1,000,000 one-row entries: a packed string is 16 bytes of header plus its
// characters; a row object with its UUID string and boxed timestamps ≈ 230; an array's header ≈ 60.
const LRU_BYTES = 90;
const ROW_BYTES = 230;
const ARRAY_BYTES = 60;

/**
 * The identity index behind an LRU of caller-independent rows keyed by identity name (ARCHITECTURE.md).
 * Coherent through the change feed: every committed change to identities names the affected names, and
 * this instance evicts exactly those; a lost feed flushes and bypasses the cache until it is back.
 */
export class CachedIdentityIndex extends IdentityIndex {
  private readonly cache: CoherentCache<Entry>;
  private readonly batcher: MissBatcher<Entry>;

  constructor(
    private readonly inner: IdentityIndex,
    feed: ChangeFeed,
    options: IdentityCacheOptions,
    private readonly clock: () => number = Date.now,
  ) {
    super();
    this.cache = new CoherentCache<Entry>({
      maxEntries: options.maxEntries,
      maxBytes: options.maxBytes,
      ttlMs: options.ttlMs,
      sizeOf: (e, key) =>
        key.length + LRU_BYTES + (typeof e === 'string' ? 16 + e.length : ARRAY_BYTES + e.length * ROW_BYTES),
      expiresAtMs: earliestExpiryMs,
      // Names that resolve to nothing are kept apart, so a flood of them cannot evict names that resolve.
      negative: NEGATIVE,
    });
    this.batcher = new MissBatcher<Entry>(
      async (names) => {
        const found = await this.inner.lookupMany(names);
        const now = this.clock();
        const out = new Map<string, Entry>();
        for (const [name, rows] of found) out.set(name, this.toEntry(name, rows, now));
        return out;
      },
      () => NEGATIVE,
    );
    this.cache.follow(feed, 'i');
  }

  get stats() {
    return this.cache.snapshot;
  }

  // The hot path's packed row is handed out as this one view in this one array: no allocation per request.
  private readonly view = new PackedRowView();
  private readonly viewed: readonly IdentityRow[] = [this.view];

  /** Synchronous hit path for the lean resolve route; a packed row comes as a view, valid until the next call. */
  override peekRows(name: string): readonly IdentityRow[] | undefined {
    const hit = this.cache.peek(name, this.clock());
    if (hit === undefined) return undefined;
    this.cache.stats.hits++;
    if (typeof hit !== 'string') return hit;
    this.view.of(name, hit);
    return this.viewed;
  }

  async lookup(name: string): Promise<IdentityRow[]> {
    const found = this.cache.get(name, (n) => this.batcher.load(n), this.clock());
    return rowsOf(name, found instanceof Promise ? await found : found);
  }

  async lookupMany(names: readonly string[]): Promise<Map<string, IdentityRow[]>> {
    const out = new Map<string, IdentityRow[]>();
    // One batch load for all misses (no promise per name); misses join the current tick's batch of single lookups.
    const loading = this.cache.getMany(
      names,
      (missing) => this.batcher.loadAll(missing),
      this.clock(),
      out,
      rowsOf,
    );
    if (loading) await loading;
    return out;
  }

  /** The writing process's own eviction, before it answers (the feed does it everywhere else, a moment later). */
  invalidate(names: Iterable<string>): void {
    for (const n of names) this.cache.invalidate(n);
  }

  private readonly owners = new Map<string, string>();

  /** Builds the compact entry: expired rows dropped, the name shared with the cache key, owner strings interned. */
  private toEntry(name: string, rows: readonly IdentityRow[], nowMs: number): Entry {
    const kept: IdentityRow[] = [];
    for (const r of rows) {
      if (r.validityTs !== null && r.validityTs * 1000 <= nowMs) continue;
      // In place: the rows are freshly loaded and ours; a copy would double the garbage of every cold load.
      r.name = name;
      r.owner = this.intern(r.owner);
      kept.push(r);
    }
    if (kept.length === 0) return NEGATIVE;
    if (kept.length === 1 && canPack(kept[0])) return packRow(kept[0]);
    return kept;
  }

  // Few accounts own millions of rows; one string per account instead of one per row. Bounded for safety.
  private intern(owner: string): string {
    const known = this.owners.get(owner);
    if (known !== undefined) return known;
    if (this.owners.size >= 100_000) this.owners.clear();
    this.owners.set(owner, owner);
    return owner;
  }
}

const NEGATIVE: readonly IdentityRow[] = Object.freeze([]);

/** A fresh array (and, for a packed row, a fresh row object) per call: callers hold arrays and young garbage is cheap. */
function rowsOf(name: string, e: Entry): IdentityRow[] {
  return typeof e === 'string' ? [unpackRow(name, e)] : (e as IdentityRow[]);
}

function earliestExpiryMs(e: Entry): number | undefined {
  if (typeof e === 'string') {
    const v = packedValidityTs(e);
    return v === null ? undefined : v * 1000;
  }
  let earliest: number | undefined;
  for (const r of e) {
    if (r.validityTs !== null && (earliest === undefined || r.validityTs * 1000 < earliest))
      earliest = r.validityTs * 1000;
  }
  return earliest;
}
