import { DEFAULT_CALL_POLICY, type UpstreamCallPolicy } from './upstream-client.js';

/** Knobs of the sync machinery that are not per source; tests and benches tighten them. */
export interface SyncOptions {
  callPolicy: UpstreamCallPolicy;
  /** Twins per scan page, sent as both `count` and `limit` (the Trusted Twin default maximum is 100). */
  pageSize: number;
  /** An incremental run asks for twins updated since the previous completed run started, minus this (clock skew). */
  incrementalOverlapSeconds: number;
  /** A running scan re-reads its source this often between pages (disabled, deleted, new credential: it stops). */
  sourceCheckMs: number;
}

export const SYNC_OPTIONS = Symbol('SYNC_OPTIONS');

export const DEFAULT_SYNC_OPTIONS: SyncOptions = {
  callPolicy: DEFAULT_CALL_POLICY,
  pageSize: 100,
  incrementalOverlapSeconds: 60,
  sourceCheckMs: 1_000,
};
