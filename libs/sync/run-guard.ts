import { RunStopped } from './run-stopped.error.js';
import type { SyncSourcesRepository, SyncSourceWithSecret } from './sync-sources.repository.js';

/**
 * The cancellation signal of one running scan. It aborts (with a RunStopped reason) when the run's deadline passes,
 * or when the source is deleted, disabled or given another credential or address — looked up before every page
 * (`check`) and every `checkEveryMs` in between, so a request in flight is cut within seconds and the old
 * credential is never sent again. A poll rather than a notification: one primary-key read per second per running
 * scan is cheap, and it cannot be missed the way a message can.
 */
export class RunGuard {
  private readonly controller = new AbortController();
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly sources: SyncSourcesRepository,
    private readonly source: SyncSourceWithSecret,
    options: { remainingMs: number; deadlineReason: string; checkEveryMs: number },
  ) {
    const deadline = setTimeout(
      () => this.stop(options.deadlineReason),
      Math.max(0, Math.min(options.remainingMs, 2 ** 31 - 1)),
    );
    const poll = setInterval(() => void this.check().catch(() => undefined), options.checkEveryMs);
    // Neither keeps a process alive that is otherwise done.
    deadline.unref();
    poll.unref();
    this.timers.push(deadline, poll);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Re-reads the source; throws the reason once the scan must stop. */
  async check(): Promise<void> {
    this.signal.throwIfAborted();
    const now = await this.sources.credentialState(this.source.uuid);
    if (!now) this.stop('the source was deleted');
    else if (!now.enabled) this.stop('the source was disabled');
    else if (
      now.baseUrl !== this.source.baseUrl ||
      !now.secretEncrypted.equals(this.source.secretEncrypted)
    ) {
      this.stop("the source's address or credential changed");
    }
    this.signal.throwIfAborted();
  }

  /** Stops the scan with this reason (the first reason given wins). */
  stop(reason: string): void {
    if (!this.signal.aborted) this.controller.abort(new RunStopped(`scan stopped: ${reason}`));
  }

  dispose(): void {
    for (const t of this.timers) clearTimeout(t);
  }
}
