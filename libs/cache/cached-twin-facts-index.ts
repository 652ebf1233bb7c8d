import type { ChangeFeed } from './change-feed.js';
import { CoherentCache } from './coherent-cache.js';
import { MissBatcher } from './miss-batcher.js';
import { type IndexedTwin, TwinFactsIndex } from '../store/identity-index.js';

export interface TwinCacheOptions {
  maxEntries: number;
  maxBytes: number;
  ttlMs: number;
}

/** A twin that does not exist (negative entry); never handed out. */
const ABSENT = Object.freeze({ absent: true as const });
type Entry = IndexedTwin | typeof ABSENT;

/**
 * Twin facts (owner, status, description, timestamps) for details=true and for rules reading TWIN.*, cached by UUID
 * and evicted through the change feed (kind `t`) on every committed change to a twin.
 */
export class CachedTwinFactsIndex extends TwinFactsIndex {
  private readonly cache: CoherentCache<Entry>;
  private readonly batcher: MissBatcher<Entry>;

  constructor(
    private readonly inner: TwinFactsIndex,
    feed: ChangeFeed,
    options: TwinCacheOptions,
  ) {
    super();
    this.cache = new CoherentCache<Entry>({
      maxEntries: options.maxEntries,
      maxBytes: options.maxBytes,
      ttlMs: options.ttlMs,
      // Descriptions dominate; their JSON length is a fair proxy and is computed once per load.
      sizeOf: (e) => ('absent' in e ? 64 : 400 + JSON.stringify(e.description).length * 2),
    });
    this.batcher = new MissBatcher<Entry>(
      (uuids) => this.inner.twinFacts(uuids),
      () => ABSENT,
    );
    this.cache.follow(feed, 't');
  }

  get stats() {
    return this.cache.snapshot;
  }

  async twinFacts(uuids: readonly string[]): Promise<Map<string, IndexedTwin>> {
    const out = new Map<string, IndexedTwin>();
    const waiting: Promise<void>[] = [];
    const keep = (uuid: string, e: Entry) => {
      if (!('absent' in e)) out.set(uuid, e);
    };
    for (const uuid of new Set(uuids)) {
      const found = this.cache.get(uuid, (k) => this.batcher.load(k));
      if (found instanceof Promise) waiting.push(found.then((e) => keep(uuid, e)));
      else keep(uuid, found);
    }
    if (waiting.length) await Promise.all(waiting);
    return out;
  }

  /** The writing process's own eviction, before it answers (the feed does it everywhere else, a moment later). */
  invalidate(uuids: Iterable<string>): void {
    for (const u of uuids) this.cache.invalidate(u);
  }
}
