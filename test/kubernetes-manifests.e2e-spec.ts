import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { configSchema } from '../libs/config/config.schema.js';
import { WorkerMetricsServer } from '../apps/worker/metrics/metrics-server.js';
import { TestApi } from './support/test-app.js';
import { clearQueues, startWorker } from './upstream-simulator/sync-harness.js';

const ROOT = new URL('..', import.meta.url).pathname;
const TREE = join(ROOT, 'deploy/kubernetes');
const OVERLAYS = ['single-node', 'production'] as const;

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string }; [field: string]: any };

// ---------------------------------------------------------------------------------------------------------------
// A renderer of the Kustomize features the tree uses, so the test needs no kubectl (see docs/kubernetes.md
// "Checked without a cluster"). A kustomization using anything else fails here rather than being half rendered;
// where kubectl is installed the test also checks that it renders the very same objects.
// ---------------------------------------------------------------------------------------------------------------

const KUSTOMIZATION_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'configMapGenerator', 'patches']);

function readObjects(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Strategic merge as Kustomize applies it to the fields the patches touch: maps merge, `null` deletes, lists of named items merge by name, other lists are replaced. */
function strategicMerge(base: unknown, patch: unknown): unknown {
  if (patch === null) return undefined;
  if (isMap(base) && isMap(patch)) {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(patch)) {
      const merged = strategicMerge(base[key], value);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    }
    return out;
  }
  const named = (list: unknown[]) => list.every((item) => isMap(item) && typeof item.name === 'string');
  if (Array.isArray(base) && Array.isArray(patch) && named(base) && named(patch)) {
    const out = base.map((item) => {
      const over = patch.find((p) => p.name === item.name);
      return over === undefined ? item : strategicMerge(item, over);
    });
    for (const p of patch) if (!base.some((b) => b.name === p.name)) out.push(p);
    return out;
  }
  return patch;
}

function envFile(file: string): Record<string, string> {
  const data: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim() || line.trimStart().startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 1) throw new Error(`${file}: not KEY=VALUE: ${line}`);
    data[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return data;
}

function render(dir: string): K8sObject[] {
  const k = parseYaml(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Record<string, any>;
  for (const field of Object.keys(k))
    if (!KUSTOMIZATION_FIELDS.has(field))
      throw new Error(`${dir}: kustomization field '${field}' not rendered by the test`);
  const objects: K8sObject[] = [];
  for (const entry of (k.resources ?? []) as string[]) {
    const path = resolve(dir, entry);
    objects.push(...(statSync(path).isDirectory() ? render(path) : readObjects(path)));
  }
  for (const gen of (k.configMapGenerator ?? []) as Record<string, any>[]) {
    const extra = Object.keys(gen).filter((f) => !['name', 'envs', 'literals', 'behavior'].includes(f));
    if (extra.length) throw new Error(`${dir}: configMapGenerator fields ${extra.join(', ')} not rendered`);
    const data: Record<string, string> = {};
    for (const file of (gen.envs ?? []) as string[]) Object.assign(data, envFile(resolve(dir, file)));
    for (const literal of (gen.literals ?? []) as string[]) {
      const eq = literal.indexOf('=');
      data[literal.slice(0, eq)] = literal.slice(eq + 1);
    }
    const existing = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === gen.name);
    if (gen.behavior === 'merge') {
      if (!existing) throw new Error(`${dir}: no ConfigMap ${gen.name} to merge into`);
      Object.assign(existing.data, data);
    } else {
      if (existing || (gen.behavior ?? 'create') !== 'create')
        throw new Error(`${dir}: ConfigMap ${gen.name}`);
      objects.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: gen.name }, data });
    }
  }
  for (const p of (k.patches ?? []) as Record<string, any>[]) {
    if (Object.keys(p).join() !== 'path') throw new Error(`${dir}: only 'path' patches are rendered`);
    for (const patch of readObjects(resolve(dir, p.path))) {
      const i = objects.findIndex((o) => o.kind === patch.kind && o.metadata.name === patch.metadata.name);
      if (i < 0) throw new Error(`${dir}: patch for missing ${patch.kind}/${patch.metadata.name}`);
      objects[i] = strategicMerge(objects[i], patch) as K8sObject;
    }
  }
  return objects;
}

/** kubectl's rendering with the generated ConfigMap's content hash taken out of its name and every reference. */
function kubectlRender(dir: string): K8sObject[] | undefined {
  const run = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if (run.error) return undefined; // not installed
  if (run.status !== 0) throw new Error(`kubectl kustomize ${dir}: ${run.stderr}`);
  let text = run.stdout;
  for (const m of text.matchAll(/^ {2}name: (\S+)-([a-z0-9]{10})$/gm))
    if (text.includes(`kind: ConfigMap\nmetadata:\n  name: ${m[1]}-${m[2]}`))
      text = text.replaceAll(`${m[1]}-${m[2]}`, m[1]);
  return parseAllDocuments(text).map((d) => d.toJS() as K8sObject);
}

const byKey = (objects: K8sObject[]) =>
  Object.fromEntries(objects.map((o) => [`${o.kind}/${o.metadata.name}`, o]));

// ---------------------------------------------------------------------------------------------------------------

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

/** The process a container runs, by its entry point: which config variable gives its probe port. */
const ENTRY_POINTS: Record<string, { source: string; portVariable: 'PORT' | 'WORKER_METRICS_PORT' }> = {
  'dist/apps/api/main.js': { source: 'apps/api/main.ts', portVariable: 'PORT' },
  'dist/apps/worker/main.js': { source: 'apps/worker/main.ts', portVariable: 'WORKER_METRICS_PORT' },
};

const rendered = Object.fromEntries(OVERLAYS.map((o) => [o, render(join(TREE, o))])) as Record<
  (typeof OVERLAYS)[number],
  K8sObject[]
>;
const deployments = (objects: K8sObject[]) => objects.filter((o) => o.kind === 'Deployment');
const containers = (objects: K8sObject[]) =>
  deployments(objects).flatMap((d) => d.spec.template.spec.containers as Record<string, any>[]);
const configData = (objects: K8sObject[]): Record<string, string> =>
  objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'twindex-config')?.data ?? {};

/** Every `secretKeyRef` and ServiceMonitor credential: the Secret keys the operator must provide. */
function secretKeys(objects: K8sObject[]): Set<string> {
  const keys = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (isMap(node)) {
      for (const [k, v] of Object.entries(node)) {
        if ((k === 'secretKeyRef' || k === 'credentials') && isMap(v) && typeof v.key === 'string')
          keys.add(v.key);
        walk(v);
      }
    }
  };
  walk(objects);
  return keys;
}

describe.each(OVERLAYS)('deploy/kubernetes/%s', (overlay) => {
  const objects = rendered[overlay];

  it('renders the same objects as kubectl kustomize (where kubectl is installed)', () => {
    const fromKubectl = kubectlRender(join(TREE, overlay));
    if (fromKubectl === undefined) {
      console.warn('kubectl not installed: the tree is checked as this test renders it');
      return;
    }
    expect(byKey(objects)).toEqual(byKey(fromKubectl));
  });

  it('validates every object against the Kubernetes, KEDA and Prometheus-operator schemas', () => {
    expect(objects.length).toBeGreaterThan(0);
    for (const o of objects) {
      const Model = MODELS[`${o.apiVersion}/${o.kind}`];
      if (!Model) throw new Error(`no schema for ${o.apiVersion} ${o.kind}`);
      expect(() => new Model(o).validate()).not.toThrow();
    }
  });

  it('contains no Secret and sets only variables the config schema knows', () => {
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    const known = new Set(Object.keys(configSchema.shape));
    const set = [
      ...Object.keys(configData(objects)),
      ...containers(objects).flatMap((c) => (c.env ?? []).map((e: { name: string }) => e.name)),
    ];
    expect(set.length).toBeGreaterThan(5);
    expect(set.filter((name) => !known.has(name))).toEqual([]);
    // …and the ConfigMap's values pass the schema as the processes will read them.
    expect(() => configSchema.parse(configData(objects))).not.toThrow();
  });

  it('documents every Secret key it references', () => {
    const doc = readFileSync(join(ROOT, 'docs/kubernetes.md'), 'utf8');
    const section = /^## The Secret\n([\s\S]*?)(?=^## )/m.exec(doc)?.[1] ?? '';
    const keys = [...secretKeys(objects)];
    expect(keys).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL']));
    expect(keys.filter((key) => !section.includes(`\`${key}\``))).toEqual([]);
    const known = new Set(Object.keys(configSchema.shape));
    expect(keys.filter((key) => !known.has(key))).toEqual([]);
  });

  it('runs entry points the build produces, probes on the port the process listens on', () => {
    const cm = configData(objects);
    const build = JSON.parse(
      readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8').replace(/^\s*\/\/.*$/gm, ''),
    ) as { include: string[] };
    for (const c of containers(objects)) {
      // `args`, not `command`: the image's entry point (which raises the open-files limit) must still run.
      expect(c.command).toBeUndefined();
      const entry = ENTRY_POINTS[(c.args as string[]).slice(1).join(' ')];
      expect(c.args[0]).toBe('node');
      expect(entry).toBeDefined();
      expect(existsSync(join(ROOT, entry.source))).toBe(true);
      expect(build.include).toContain(entry.source.split('/')[0]);
      const port = Number(cm[entry.portVariable] ?? configSchema.shape[entry.portVariable].parse(undefined));
      for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
        const named = (c.ports as { name: string; containerPort: number }[]).find(
          (p) => p.name === c[probe].httpGet.port,
        );
        expect(named?.containerPort).toBe(port);
      }
      expect(c.livenessProbe.httpGet.path).toBe('/health/live');
      expect(c.readinessProbe.httpGet.path).toBe('/health/ready');
    }
  });

  it('runs non-root on a read-only root filesystem, the import spool on an emptyDir', () => {
    const dockerUser = /^USER (\d+)(?::(\d+))?$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
    expect(dockerUser).not.toBeNull();
    for (const d of deployments(objects)) {
      const pod = d.spec.template.spec;
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.runAsUser).toBe(Number(dockerUser![1]));
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(30);
      for (const c of pod.containers) {
        expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
        expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
      }
    }
    const spool = configData(objects).IMPORT_SPOOL_DIR;
    const api = deployments(objects).find((d) => d.metadata.name === 'twindex-api')!.spec.template.spec;
    const mount = api.containers[0].volumeMounts.find((m: { mountPath: string }) => m.mountPath === spool);
    expect(api.volumes.find((v: { name: string }) => v.name === mount?.name)?.emptyDir).toBeDefined();
  });
});

describe('deploy/kubernetes/production', () => {
  const objects = byKey(rendered.production);

  it('autoscales the API on CPU and the worker on its exported backlog, replicas left to the autoscalers', () => {
    expect(objects['HorizontalPodAutoscaler/twindex-api'].spec.scaleTargetRef.name).toBe('twindex-api');
    const scaled = objects['ScaledObject/twindex-worker'].spec;
    expect(scaled.scaleTargetRef.name).toBe('twindex-worker');
    const query: string = scaled.triggers[0].metadata.query;
    expect(query).toContain('twindex_worker_queue_jobs');
    for (const state of ['waiting', 'prioritized', 'delayed']) expect(query).toContain(state);
    for (const d of ['twindex-api', 'twindex-worker'])
      expect(objects[`Deployment/${d}`].spec.replicas).toBeUndefined();
  });

  it('budgets disruptions with maxUnavailable 1 and spreads pods across nodes', () => {
    const budgets = rendered.production.filter((o) => o.kind === 'PodDisruptionBudget');
    expect(budgets).toHaveLength(2);
    for (const b of budgets) expect(b.spec).toMatchObject({ maxUnavailable: 1 });
    for (const d of deployments(rendered.production)) {
      const keys = d.spec.template.spec.topologySpreadConstraints.map(
        (t: { topologyKey: string }) => t.topologyKey,
      );
      expect(keys).toContain('kubernetes.io/hostname');
      expect(d.spec.template.spec.containers[0].resources.requests.memory).toBeDefined();
      expect(d.spec.template.spec.containers[0].resources.limits.memory).toBeDefined();
    }
  });

  it('admits traffic to the API port and the worker metrics port only', () => {
    const ports = (name: string) =>
      objects[`NetworkPolicy/${name}`].spec.ingress.flatMap((r: { ports: { port: number }[] }) =>
        r.ports.map((p) => p.port),
      );
    expect(ports('twindex-api')).toEqual([8080]);
    expect(ports('twindex-worker')).toEqual([9464]);
  });
});

describe('probe paths answer on the running processes', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  beforeAll(async () => {
    api = await TestApi.start();
    worker = await startWorker(api.config);
  }, 60_000);
  afterAll(async () => {
    await worker?.close();
    await clearQueues(api.config);
    await api.stop();
  }, 60_000);

  it.each(OVERLAYS)('every probe of %s gets 200 from its process', async (overlay) => {
    const base = {
      'dist/apps/api/main.js': api.baseUrl,
      'dist/apps/worker/main.js': `http://127.0.0.1:${worker.get(WorkerMetricsServer).port}`,
    } as Record<string, string>;
    const probes = containers(rendered[overlay]).flatMap((c) =>
      ['livenessProbe', 'readinessProbe', 'startupProbe'].map(
        (p) => `${base[(c.args as string[]).slice(1).join(' ')]}${c[p].httpGet.path}`,
      ),
    );
    expect(probes).toHaveLength(6);
    for (const url of probes)
      expect({ url, status: (await fetch(url)).status }).toEqual({ url, status: 200 });
  });
});
