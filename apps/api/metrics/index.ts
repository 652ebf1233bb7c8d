// What the metrics room shows other rooms (eslint's boundary rule lets them import only this and the Nest module).
export { ApiMetrics, QUEUE_STATES, type QueueState, type QueueDepthReader } from './metrics.registry.js';
export { CacheMetricsBinder } from './cache-metrics.binder.js';
