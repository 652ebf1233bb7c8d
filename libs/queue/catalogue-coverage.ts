/**
 * Whether a worker's processors and the job catalogue agree, checked before any worker takes a job: a job of the
 * catalogue without a processor would wait in its queue for good, and a processor of a job the catalogue does not
 * have (or on another queue than the catalogue's) would take jobs it can only fail. Pure: the catalogue and what the
 * processors declare in, one line per disagreement out.
 */

/** A job as the catalogue places it. */
export interface CataloguedJob {
  readonly queue: string;
}

/** One processor as the worker found it: its class name, the queue it listens on and the job it says it serves. */
export interface DeclaredProcessor {
  readonly processor: string;
  /** undefined: the class carries no queue (not a BullMQ processor after all). */
  readonly queue: string | undefined;
  /** undefined: the processor names no job of the catalogue (declared without `@JobProcessor`). */
  readonly job: string | undefined;
}

/** Every disagreement between the catalogue and the processors, one sentence each; empty when they agree. */
export function catalogueCoverageProblems(
  catalogue: Readonly<Record<string, CataloguedJob>>,
  processors: readonly DeclaredProcessor[],
): string[] {
  const problems: string[] = [];
  const jobs = Object.keys(catalogue);
  for (const job of jobs) {
    const serving = processors.filter((p) => p.job === job);
    if (serving.length === 0)
      problems.push(`job '${job}' (queue '${catalogue[job].queue}') has no processor`);
    if (serving.length > 1)
      problems.push(
        `job '${job}' has ${serving.length} processors (${names(serving)}); it needs exactly one`,
      );
  }
  for (const p of processors) {
    if (p.job === undefined) {
      problems.push(`processor ${p.processor} (queue '${p.queue ?? '?'}') names no job of the catalogue`);
    } else if (!Object.hasOwn(catalogue, p.job)) {
      problems.push(`processor ${p.processor} serves job '${p.job}', which the catalogue does not have`);
    } else if (p.queue !== catalogue[p.job].queue) {
      problems.push(
        `processor ${p.processor} serves job '${p.job}' on queue '${p.queue ?? '?'}', ` +
          `but the catalogue puts it on '${catalogue[p.job].queue}'`,
      );
    }
  }
  // Each queue is taken from by all its processors alike: a second one would take jobs that are not its own.
  const byQueue = new Map<string, DeclaredProcessor[]>();
  for (const p of processors) {
    if (p.queue === undefined) continue;
    byQueue.set(p.queue, [...(byQueue.get(p.queue) ?? []), p]);
  }
  for (const [queue, listening] of byQueue) {
    if (listening.length > 1 && new Set(listening.map((p) => p.job)).size > 1)
      problems.push(
        `queue '${queue}' has ${listening.length} processors (${names(listening)}) of different jobs`,
      );
  }
  return problems;
}

function names(processors: readonly DeclaredProcessor[]): string {
  return processors.map((p) => p.processor).join(', ');
}
