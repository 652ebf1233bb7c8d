/**
 * Whether this API process has been told to stop. From then on /health/ready answers 503, so that load balancers
 * (a Kubernetes Service's endpoint list) take the host out while it still serves what reaches it; see the graceful
 * stop in docs/operations.md. One flag per process, set once, never cleared: a stopping process does not come back.
 */
let draining = false;

export function startDraining(): void {
  draining = true;
}

export function isDraining(): boolean {
  return draining;
}
