/**
 * Job locks: renewed every half lockDuration while a job runs; a job whose lock lapses (worker killed, event loop
 * blocked) is handed to another worker after at most lockDuration + stalledInterval. Reconciles are safe when
 * that hands one twin to two workers at once (advisory lock and fetch-time check in TwinReconciler).
 */
export const WORKER_LOCKS = { lockDuration: 15_000, stalledInterval: 5_000, maxStalledCount: 3 } as const;
