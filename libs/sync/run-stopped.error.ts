/**
 * A run's scan stopped on purpose: a limit of the run was reached (docs/sync.md, "Runs that always end"), or its
 * source was disabled, deleted or given another credential. Never retried: asking again changes nothing.
 */
export class RunStopped extends Error {
  override name = 'RunStopped';
  readonly retryable = false;
}
