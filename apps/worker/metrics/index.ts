// What the metrics room shows other rooms (eslint's boundary rule lets them import only this and the Nest module).
export { WorkerMetrics } from './worker-metrics.js';
export { WorkerMetricsModule } from './worker-metrics.module.js';
