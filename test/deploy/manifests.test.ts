// The deployment artefacts, checked without a Docker engine or a cluster: every kustomize
// overlay is rendered and each object validated against the Kubernetes (and Prometheus
// Operator) JSON schemas, then against what the services need (probes, secrets, selectors);
// docker-compose.yml is validated against the Compose specification's schema; the alert rules
// and the Grafana dashboard are parsed as PromQL and checked against the metrics the code
// defines.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parser as promqlParser } from '@prometheus-io/lezer-promql';
import { repoRoot } from '@topicdesk/testkit';
import { Ajv } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments, stringify as stringifyYaml } from 'yaml';

type Json = Record<string, unknown>;
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> } & Json;
  spec?: Json;
  [key: string]: unknown;
}

const deployDir = join(repoRoot, 'deploy');
const overlaysDir = join(deployDir, 'k8s', 'overlays');
const overlays = readdirSync(overlaysDir).filter((name) =>
  statSync(join(overlaysDir, name)).isDirectory(),
);
const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');
const yamlFile = (path: string) => parseYaml(read(path), { merge: true }) as Json;

// --- kustomize ----------------------------------------------------------------------------

const kubectl = process.env['KUBECTL'] ?? 'kubectl';
const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** kubectl's client and kustomize versions, or why there is none. */
function kubectlInfo(): { kustomizeMajor: number; label: string } | { missing: string } {
  const result = spawnSync(kubectl, ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  if (result.error) return { missing: `${kubectl} not runnable: ${result.error.message}` };
  const info = JSON.parse(result.stdout) as {
    clientVersion?: { gitVersion?: string };
    kustomizeVersion?: string;
  };
  // kubectl before 1.21 embeds kustomize v2.0.3 and does not report its version.
  const kustomize = info.kustomizeVersion ?? 'v2.0.3';
  return {
    kustomizeMajor: Number(/^v(\d+)/.exec(kustomize)?.[1] ?? 2),
    label: `kubectl ${info.clientVersion?.gitVersion ?? '?'} with kustomize ${kustomize}`,
  };
}
const tool = kubectlInfo();

/**
 * kustomize before v4 (Debian's kubectl 1.20, the fallback .ci/run installs, embeds v2.0.3)
 * knows directory resources as `bases` and path patches as `patchesStrategicMerge`. A copy of
 * deploy/k8s with those older names renders the same objects.
 */
function legacyCopy(): string {
  const copy = mkdtempSync(join(tmpdir(), 'topicdesk-k8s-'));
  tempDirs.push(copy);
  cpSync(join(deployDir, 'k8s'), copy, { recursive: true });
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) visit(path);
      else if (entry === 'kustomization.yaml') {
        const k = parseYaml(readFileSync(path, 'utf8')) as Json;
        const resources = (k['resources'] as string[] | undefined) ?? [];
        const isDir = (r: string) => statSync(join(dir, r)).isDirectory();
        if (resources.some(isDir)) {
          k['bases'] = resources.filter(isDir);
          k['resources'] = resources.filter((r) => !isDir(r));
        }
        const patches = k['patches'] as Array<{ path?: string; target?: unknown }> | undefined;
        if (patches) {
          k['patchesStrategicMerge'] = patches.map((p) => {
            if (!p.path || p.target) throw new Error(`${path}: only path patches are supported`);
            return p.path;
          });
          delete k['patches'];
        }
        writeFileSync(path, stringifyYaml(k));
      }
    }
  };
  visit(copy);
  return copy;
}

function render(overlay: string): K8sObject[] {
  if ('missing' in tool) throw new Error(tool.missing);
  const root = tool.kustomizeMajor >= 4 ? join(deployDir, 'k8s') : legacyCopy();
  const result = spawnSync(kubectl, ['kustomize', join(root, 'overlays', overlay)], {
    encoding: 'utf8',
    maxBuffer: 32 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`kustomize ${overlay} failed:\n${result.stderr}`);
  return parseAllDocuments(result.stdout)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

type Model = new (data: unknown) => { validate(): void };

/** The JSON-schema validation error of one object, or undefined when it is valid. */
async function schemaError(object: K8sObject): Promise<string | undefined> {
  const [group, version] = object.apiVersion.includes('/')
    ? object.apiVersion.split('/')
    : [undefined, object.apiVersion];
  const specifier =
    group === 'monitoring.coreos.com'
      ? `@kubernetes-models/prometheus-operator/${group}/${version}`
      : `kubernetes-models/${group ? `${group}/` : ''}${version}`;
  let models: Record<string, Model | undefined>;
  try {
    models = (await import(specifier)) as Record<string, Model | undefined>;
  } catch {
    return `no schema for apiVersion ${object.apiVersion}`;
  }
  const ModelClass = models[object.kind];
  if (!ModelClass) return `no schema for ${object.apiVersion} ${object.kind}`;
  try {
    new ModelClass(object).validate();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const named = (objects: K8sObject[], kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

interface Container {
  name: string;
  image: string;
  env?: Array<{
    name: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
  }>;
  envFrom?: Array<{ configMapRef?: { name: string } }>;
  ports?: Array<{ name: string; containerPort: number }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: { httpGet?: { path: string } };
  readinessProbe?: { httpGet?: { path: string } };
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
  securityContext?: Json;
}
interface PodSpec {
  containers: Container[];
  securityContext?: Json;
  terminationGracePeriodSeconds?: number;
  topologySpreadConstraints?: unknown[];
  automountServiceAccountToken?: boolean;
}
const podSpec = (o: K8sObject) =>
  (o.spec as { template: { spec: PodSpec; metadata: { labels: Record<string, string> } } })
    .template;

const secretTemplate = parseYaml(read('deploy/k8s/secret.template.yaml')) as K8sObject & {
  stringData: Record<string, string>;
};

describe.each(overlays)('kustomize overlay %s', (overlay) => {
  const rendered = (() => {
    if ('missing' in tool) {
      console.warn(`SKIPPED rendering ${overlay}: ${tool.missing} (.ci/run installs kubectl)`);
      return undefined;
    }
    return render(overlay);
  })();
  const objects = rendered ?? [];
  const run = rendered ? it : it.skip;

  run('renders, and every object is valid against its Kubernetes JSON schema', async () => {
    console.info(
      `${overlay}: ${objects.length} objects rendered by ${'label' in tool ? tool.label : ''}`,
    );
    expect(objects.length).toBeGreaterThan(10);
    const errors: string[] = [];
    for (const object of objects) {
      const error = await schemaError(object);
      if (error) errors.push(`${object.kind}/${object.metadata.name}: ${error}`);
    }
    expect(errors).toEqual([]);
  });

  run('has what the brief asks of each kind', () => {
    const kinds = new Set(objects.map((o) => o.kind));
    for (const kind of [
      'Namespace',
      'ConfigMap',
      'Deployment',
      'Service',
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
      'Ingress',
      'Job',
      'NetworkPolicy',
      'ServiceMonitor',
      'PrometheusRule',
    ])
      expect(kinds, kind).toContain(kind);
    const namespace = objects.find((o) => o.kind === 'Namespace')!.metadata.name;
    for (const o of objects.filter((o) => o.kind !== 'Namespace'))
      expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(namespace);
    // Secrets are created by hand from the template, never rendered from the repository.
    expect(kinds).not.toContain('Secret');
  });

  run('runs every workload non-root, read-only, with resources, probes and spread', () => {
    const workloads = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'Job');
    for (const workload of workloads) {
      const where = `${workload.kind}/${workload.metadata.name}`;
      const spec = podSpec(workload).spec;
      expect(spec.securityContext, where).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(spec.automountServiceAccountToken, where).toBe(false);
      for (const container of spec.containers) {
        expect(container.securityContext, where).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(container.resources?.requests?.['cpu'], where).toBeTruthy();
        expect(container.resources?.requests?.['memory'], where).toBeTruthy();
        expect(container.resources?.limits?.['memory'], where).toBeTruthy();
        expect(container.image, where).toMatch(/^[\w.-]+(\/[\w.-]+)+:[\w.-]+$/);
        if (workload.kind === 'Deployment') {
          expect(container.livenessProbe?.httpGet?.path, where).toBe('/healthz');
          expect(container.readinessProbe?.httpGet?.path, where).toBe('/readyz');
        }
      }
      if (workload.kind === 'Deployment')
        expect(spec.topologySpreadConstraints?.length, where).toBeGreaterThan(0);
    }
  });

  run('drains the gateway: preStop sleep, then a grace period long enough to close sockets', () => {
    const gateway = podSpec(named(objects, 'Deployment', 'topicdesk-gateway')).spec;
    const sleep = gateway.containers[0]!.lifecycle?.preStop?.sleep?.seconds ?? 0;
    expect(sleep).toBeGreaterThanOrEqual(5);
    expect(gateway.terminationGracePeriodSeconds ?? 30).toBeGreaterThanOrEqual(sleep + 20);
    // The HPA owns the gateway's replica count; the Deployment must not fight it on apply.
    expect(named(objects, 'Deployment', 'topicdesk-gateway').spec).not.toHaveProperty('replicas');
    const hpa = named(objects, 'HorizontalPodAutoscaler', 'topicdesk-gateway').spec as {
      scaleTargetRef: { kind: string; name: string };
    };
    expect(hpa.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'topicdesk-gateway' });
  });

  run('wires references: config, secret keys, selectors, Ingress and ServiceMonitor ports', () => {
    const deployments = objects.filter((o) => o.kind === 'Deployment');
    const configMaps = new Set(
      objects.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name),
    );
    for (const workload of objects.filter((o) => o.kind === 'Deployment' || o.kind === 'Job')) {
      for (const container of podSpec(workload).spec.containers) {
        for (const source of container.envFrom ?? [])
          if (source.configMapRef) expect(configMaps).toContain(source.configMapRef.name);
        for (const variable of container.env ?? []) {
          const ref = variable.valueFrom?.secretKeyRef;
          if (!ref) continue;
          expect(ref.name).toBe(secretTemplate.metadata.name);
          expect(Object.keys(secretTemplate.stringData), `${variable.name}`).toContain(ref.key);
        }
      }
    }
    const podsOf = (selector: Record<string, string>) =>
      deployments.filter((d) => matches(selector, podSpec(d).metadata.labels));
    const services = objects.filter((o) => o.kind === 'Service');
    for (const service of services) {
      const spec = service.spec as {
        selector: Record<string, string>;
        ports: Array<{ name: string; targetPort: string | number }>;
      };
      const [target] = podsOf(spec.selector);
      expect(target, `Service ${service.metadata.name} selects no Deployment`).toBeDefined();
      const portNames = podSpec(target!).spec.containers.flatMap((c) =>
        (c.ports ?? []).map((p) => p.name),
      );
      for (const port of spec.ports) expect(portNames).toContain(port.targetPort);
    }
    for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
      const selector = (pdb.spec as { selector: { matchLabels: Record<string, string> } }).selector;
      expect(podsOf(selector.matchLabels), pdb.metadata.name).toHaveLength(1);
    }
    for (const ingress of objects.filter((o) => o.kind === 'Ingress')) {
      const rules = (ingress.spec as { rules: Array<{ http: { paths: Json[] } }> }).rules;
      for (const path of rules.flatMap((r) => r.http.paths)) {
        const backend = (path['backend'] as { service: { name: string; port: { name: string } } })
          .service;
        const service = named(objects, 'Service', backend.name);
        const ports = (service.spec as { ports: Array<{ name: string }> }).ports;
        expect(ports.map((p) => p.name)).toContain(backend.port.name);
      }
    }
    const publicIngress = named(objects, 'Ingress', 'topicdesk');
    const annotations = publicIngress.metadata['annotations'] as Record<string, string>;
    expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThan(
      600,
    );
    const paths = (
      publicIngress.spec as {
        rules: Array<{ http: { paths: Array<{ path: string; backend: Json }> } }>;
      }
    ).rules[0]!.http.paths;
    expect(paths.find((p) => p.path === '/v1/telegram/webhook/')?.backend).toMatchObject({
      service: { name: 'topicdesk-telegram-bridge' },
    });
    const monitor = named(objects, 'ServiceMonitor', 'topicdesk').spec as {
      selector: { matchLabels: Record<string, string> };
      endpoints: Array<{ port: string; path: string }>;
    };
    const scraped = services.filter((s) =>
      matches(monitor.selector.matchLabels, s.metadata.labels),
    );
    expect(scraped.map((s) => s.metadata.name).sort()).toEqual([
      'topicdesk-gateway',
      'topicdesk-scheduler',
      'topicdesk-telegram-bridge',
    ]);
    expect(monitor.endpoints[0]).toMatchObject({ port: 'http', path: '/metrics' });
  });
});

describe.each(overlays)('the bridge in overlay %s', (overlay) => {
  const run = 'missing' in tool ? it.skip : it;

  run('takes the sender bots from the Secret, optional, so one bot alone still starts', () => {
    const bridge = podSpec(named(render(overlay), 'Deployment', 'topicdesk-telegram-bridge')).spec
      .containers[0]!;
    const tokens = bridge.env?.find((v) => v.name === 'TELEGRAM_SENDER_BOT_TOKENS');
    expect(tokens?.valueFrom?.secretKeyRef).toEqual({
      name: secretTemplate.metadata.name,
      key: 'TELEGRAM_SENDER_BOT_TOKENS',
      optional: true,
    });
    // Empty by default: the bridge reads '' as no sender bots.
    expect(secretTemplate.stringData['TELEGRAM_SENDER_BOT_TOKENS']).toBe('');
  });
});

describe.each(overlays)('the gateway in overlay %s', (overlay) => {
  const run = 'missing' in tool ? it.skip : it;

  run(
    "takes the platform token and tenants' KEKs from the Secret, optional, empty by default",
    () => {
      const gateway = podSpec(named(render(overlay), 'Deployment', 'topicdesk-gateway')).spec
        .containers[0]!;
      for (const key of ['PLATFORM_TOKEN', 'TENANT_KEK', 'TENANT_KEKS_PREVIOUS']) {
        const variable = gateway.env?.find((v) => v.name === key);
        expect(variable?.valueFrom?.secretKeyRef, key).toEqual({
          name: secretTemplate.metadata.name,
          key,
          optional: true,
        });
        // Empty: an existing install stays one tenant, and the gateway starts as before.
        expect(secretTemplate.stringData[key], key).toBe('');
      }
      // The bridge reads the same KEKs (its tenant cache), not the platform token.
      const bridge = podSpec(named(render(overlay), 'Deployment', 'topicdesk-telegram-bridge')).spec
        .containers[0]!;
      const bridgeKeys = (bridge.env ?? []).map((v) => v.name);
      expect(bridgeKeys).toEqual(expect.arrayContaining(['TENANT_KEK', 'TENANT_KEKS_PREVIOUS']));
      expect(bridgeKeys).not.toContain('PLATFORM_TOKEN');
      // The scheduler too: each tenant's default group is in its bundle (assignment, escalation).
      const scheduler = podSpec(named(render(overlay), 'Deployment', 'topicdesk-scheduler')).spec
        .containers[0]!;
      const schedulerKeys = (scheduler.env ?? []).map((v) => v.name);
      expect(schedulerKeys).toEqual(
        expect.arrayContaining(['TENANT_KEK', 'TENANT_KEKS_PREVIOUS', 'SUPPORT_GROUP_ID']),
      );
      expect(schedulerKeys).not.toContain('PLATFORM_TOKEN');
    },
  );
});

describe('the Secret template', () => {
  it('is a valid Secret that no kustomization includes', async () => {
    expect(await schemaError(secretTemplate)).toBeUndefined();
    for (const dir of ['base', ...overlays.map((o) => `overlays/${o}`)]) {
      const kustomization = yamlFile(`deploy/k8s/${dir}/kustomization.yaml`);
      expect(kustomization['resources'], dir).not.toContain('../secret.template.yaml');
      expect(JSON.stringify(kustomization['resources'])).not.toMatch(/secret/i);
    }
  });
});

// --- docker-compose.yml -------------------------------------------------------------------

interface Interpolation {
  value: unknown;
  /** Variables used without a default and not set: Compose would put an empty string. */
  unsetWithoutDefault: string[];
}

/** Compose's variable interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}. */
function interpolate(value: unknown, env: Record<string, string>): Interpolation {
  const unset: string[] = [];
  const pattern = /\$\$|\$\{([A-Za-z_]\w*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_]\w*)/g;
  const visit = (v: unknown): unknown => {
    if (typeof v === 'string')
      return v.replace(
        pattern,
        (whole, braced?: string, op?: string, arg?: string, bare?: string) => {
          if (whole === '$$') return '$';
          const name = (braced ?? bare)!;
          const current = env[name];
          const empty = current === undefined || (op?.startsWith(':') && current === '');
          if (op?.endsWith('?') && empty) throw new Error(`${name}: ${arg}`);
          if (op?.endsWith('-') && empty) return arg ?? '';
          if (current === undefined) unset.push(name);
          return current ?? '';
        },
      );
    if (Array.isArray(v)) return v.map(visit);
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, visit(x)]));
    return v;
  };
  return { value: visit(value), unsetWithoutDefault: unset };
}

describe('docker-compose.yml', () => {
  const raw = yamlFile('docker-compose.yml');
  const userEnv = { BOT_TOKEN: '123456:test-token', SUPPORT_GROUP_ID: '-1001234567890' };

  it('needs nothing but BOT_TOKEN and SUPPORT_GROUP_ID', () => {
    const { unsetWithoutDefault } = interpolate(raw, userEnv);
    expect(unsetWithoutDefault).toEqual([]);
    expect(() => interpolate(raw, { SUPPORT_GROUP_ID: '-100' })).toThrow(/BOT_TOKEN/);
    expect(() => interpolate(raw, { BOT_TOKEN: '1:a' })).toThrow(/SUPPORT_GROUP_ID/);
  });

  it('is valid against the Compose specification schema', () => {
    const require = createRequire(import.meta.url);
    const schemaPath = join(
      dirname(require.resolve('dclint/package.json')),
      'schemas',
      'compose.schema.json',
    );
    const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Json;
    // Draft-07 is Ajv's default; the file names it by a URL Ajv does not know.
    delete schema['$schema'];
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const compose = interpolate(raw, userEnv).value;
    const valid = validate(compose);
    expect(validate.errors ?? [], 'compose schema errors').toEqual([]);
    expect(valid).toBe(true);
  });

  it('references only services, volumes and files that exist', () => {
    const compose = interpolate(raw, userEnv).value as {
      services: Record<string, Json>;
      volumes: Record<string, unknown>;
    };
    const names = Object.keys(compose.services);
    for (const [name, service] of Object.entries(compose.services)) {
      const dependsOn = service['depends_on'] as string[] | Record<string, unknown> | undefined;
      const targets = Array.isArray(dependsOn) ? dependsOn : Object.keys(dependsOn ?? {});
      for (const target of targets) expect(names, `${name} depends on`).toContain(target);
      for (const volume of (service['volumes'] as string[] | undefined) ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.')) statSync(join(repoRoot, source));
        else expect(Object.keys(compose.volumes), `${name} mounts`).toContain(source);
      }
      const build = service['build'] as
        { context: string; dockerfile: string; args: { SERVICE: string } } | undefined;
      if (build) {
        statSync(join(repoRoot, build.context, build.dockerfile));
        statSync(join(repoRoot, 'services', build.args.SERVICE, 'src', 'main.ts'));
      }
    }
    // Two gateways behind the load balancer, which routes to both.
    const nginx = read('deploy/compose/nginx.conf');
    for (const gateway of ['gateway-a', 'gateway-b']) {
      expect(names).toContain(gateway);
      expect(nginx).toContain(`server ${gateway}:3000`);
    }
    expect(nginx).toMatch(/proxy_set_header Upgrade \$http_upgrade/);
    expect(nginx).toMatch(/proxy_read_timeout 1h/);
    // Prometheus scrapes services that exist, on their ports.
    const prometheus = yamlFile('deploy/compose/prometheus.yml') as {
      scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }>;
    };
    for (const target of prometheus.scrape_configs.flatMap((c) =>
      c.static_configs.flatMap((s) => s.targets),
    ))
      expect(names).toContain(target.split(':')[0]);
    // Sender bots are optional: empty unless set, passed through when set.
    const bridgeEnv = compose.services['telegram-bridge']!['environment'] as Record<string, string>;
    expect(bridgeEnv['TELEGRAM_SENDER_BOT_TOKENS']).toBe('');
    const withSenders = interpolate(raw, {
      ...userEnv,
      TELEGRAM_SENDER_BOT_TOKENS: '2000001:a-token,2000002:b-token',
    }).value as { services: Record<string, { environment: Record<string, string> }> };
    expect(withSenders.services['telegram-bridge']!.environment['TELEGRAM_SENDER_BOT_TOKENS']).toBe(
      '2000001:a-token,2000002:b-token',
    );
    // The platform API is off unless PLATFORM_TOKEN is set; the KEK comes from the volume.
    for (const gateway of ['gateway-a', 'gateway-b']) {
      const env = compose.services[gateway]!['environment'] as Record<string, string>;
      expect(env['PLATFORM_TOKEN']).toBe('');
      expect(env['TENANT_KEK']).toBe('');
    }
    const generated = JSON.stringify(compose.services['secrets']!['command']);
    expect(generated).toContain("'tenant-kek'");
    const wrapper = (compose.services['gateway-a']!['command'] as string[]).join(' ');
    expect(wrapper).toContain('TENANT_KEK="${TENANT_KEK:-$(cat /run/topicdesk/tenant-kek)}"');
    // Without a public URL the bridge long-polls, so it must be the only one.
    const bridge = compose.services['telegram-bridge']!;
    expect((bridge['environment'] as Record<string, string>)['TELEGRAM_UPDATES']).toBe('polling');
    expect(bridge['deploy']).toBeUndefined();
  });
});

// --- alert rules and the dashboard --------------------------------------------------------

/** Every `'topicdesk_…'` metric name the code defines. */
function definedMetrics(): Set<string> {
  const names = new Set<string>();
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (entry === 'node_modules' || entry === 'gen') continue;
      if (statSync(path).isDirectory()) visit(path);
      else if (entry.endsWith('.ts') && !entry.endsWith('.test.ts'))
        for (const m of readFileSync(path, 'utf8').matchAll(/['"`](topicdesk_[a-z0-9_]+)['"`]/g))
          names.add(m[1]!);
    }
  };
  for (const top of ['packages', 'services'])
    for (const pkg of readdirSync(join(repoRoot, top))) {
      const src = join(repoRoot, top, pkg, 'src');
      if (
        statSync(join(repoRoot, top, pkg)).isDirectory() &&
        readdirSync(join(repoRoot, top, pkg)).includes('src')
      )
        visit(src);
    }
  return names;
}

/** Series from outside the code: Prometheus itself and the NATS exporter. */
const externalMetric = (name: string) => name === 'up' || name.startsWith('jetstream_');

function promqlProblems(expr: string, defined: Set<string>): string[] {
  const problems: string[] = [];
  // Grafana's variables stand for a duration or a label value.
  const query = expr
    .replace(/\$__(rate_interval|interval|range)/g, '5m')
    .replace(/\$\{?\w+\}?/g, 'x');
  const tree = promqlParser.parse(query);
  tree.iterate({
    enter: (node) => {
      if (node.type.isError)
        problems.push(`PromQL syntax error at ${node.from} in ${JSON.stringify(expr)}`);
    },
  });
  for (const m of query.matchAll(/\b(topicdesk_[a-z0-9_]+)/g)) {
    const base = m[1]!.replace(/_(bucket|sum|count)$/, '');
    if (!defined.has(base) && !defined.has(m[1]!))
      problems.push(`${m[1]} is not defined in packages/ or services/`);
  }
  return problems;
}

const alertFile = yamlFile('deploy/prometheus/alerts.yaml') as {
  groups: Array<{ rules: Array<{ alert: string; expr: string; annotations: Json }> }>;
};
const rules = alertFile.groups.flatMap((g) => g.rules);

describe('alert rules', () => {
  it('are the same in the compose rule file and the PrometheusRule', () => {
    const prometheusRule = yamlFile('deploy/k8s/base/prometheusrule.yaml') as { spec: Json };
    expect(prometheusRule.spec['groups']).toEqual(alertFile.groups);
  });

  it('cover the SLOs: delivery latency, Telegram errors, outbox lag', () => {
    const exprs = rules.map((r) => r.expr).join('\n');
    expect(exprs).toContain('topicdesk_delivery_latency_seconds_bucket');
    expect(exprs).toContain('topicdesk_telegram_calls_total');
    expect(exprs).toContain('topicdesk_outbox_lag_seconds');
  });

  it('watch the sender: 429s per bot, and the wait for budget of normal work', () => {
    const byName = new Map(rules.map((r) => [r.alert, r.expr]));
    expect(byName.get('TopicdeskTelegramRateLimited')).toMatch(
      /sum by \(namespace, bot\) \(increase\(topicdesk_telegram_429_total/,
    );
    expect(byName.get('TopicdeskTelegramSendWaitHigh')).toContain(
      'topicdesk_telegram_send_wait_seconds_bucket{priority="normal"}',
    );
  });

  it('parse as PromQL over metrics the code defines, each with a runbook in docs/operations.md', () => {
    const defined = definedMetrics();
    const operations = read('docs/operations.md');
    const anchors = new Set(
      [...operations.matchAll(/^#+\s+(.+)$/gm)].map((m) =>
        m[1]!
          .trim()
          .toLowerCase()
          .replace(/[^\w\- ]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    const problems: string[] = [];
    for (const rule of rules) {
      problems.push(...promqlProblems(rule.expr, defined).map((p) => `${rule.alert}: ${p}`));
      const anchor = /operations\.md#([\w-]+)$/.exec(String(rule.annotations['runbook_url']))?.[1];
      if (!anchor || !anchors.has(anchor)) problems.push(`${rule.alert}: no runbook section`);
    }
    expect(problems).toEqual([]);
  });
});

describe('the Grafana dashboard', () => {
  const dashboard = JSON.parse(read('deploy/grafana/topicdesk.json')) as {
    uid: string;
    panels: Array<{ title: string; type: string; targets?: Array<{ expr: string }> }>;
  };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

  it('queries valid PromQL over metrics the code defines', () => {
    const defined = definedMetrics();
    const problems = exprs.flatMap((expr) => promqlProblems(expr, defined));
    expect(problems).toEqual([]);
    for (const expr of exprs)
      for (const m of expr.matchAll(/\b([a-z_]+_[a-z0-9_]+)\{/g))
        if (!m[1]!.startsWith('topicdesk_'))
          expect(externalMetric(m[1]!), `${m[1]} comes from nowhere`).toBe(true);
  });

  it('has a panel for each signal the operations runbooks point to', () => {
    const all = exprs.join('\n');
    for (const metric of [
      'topicdesk_ws_connections',
      'topicdesk_messages_in_total',
      'topicdesk_messages_out_total',
      'topicdesk_ack_latency_seconds_bucket',
      'topicdesk_delivery_latency_seconds_bucket',
      'topicdesk_telegram_calls_total',
      'topicdesk_telegram_429_total',
      'topicdesk_telegram_sends_waiting',
      'topicdesk_telegram_bot_sends_total',
      'topicdesk_telegram_send_wait_seconds_bucket',
      'topicdesk_telegram_group_calls_total',
      'topicdesk_webhook_auth_failures_total',
      'topicdesk_rate_limit_hits_total',
      'topicdesk_outbox_pending',
      'topicdesk_outbox_lag_seconds',
      'jetstream_consumer_num_pending',
      'topicdesk_scheduler_runs_total',
      'topicdesk_scheduler_failures_total',
      'topicdesk_auto_closed_total',
      'topicdesk_first_response_seconds_bucket',
      'topicdesk_resolution_seconds_bucket',
      'topicdesk_assignments_total',
      'topicdesk_queue_wait_seconds_bucket',
      'topicdesk_escalations_total',
      'topicdesk_sla_breaches_total',
      'topicdesk_console_sign_ins_total',
      'topicdesk_admin_access_refused_total',
      'topicdesk_data_requests_total',
      'topicdesk_console_overview_streams',
    ])
      expect(all, metric).toContain(metric);
  });

  it('shows the pool of bots: budget use and 429s by bot, wait by priority, calls by purpose', () => {
    const has = (pattern: RegExp) =>
      expect(
        exprs.some((e) => pattern.test(e)),
        String(pattern),
      );
    has(/sum by \(bot\) \(rate\(topicdesk_telegram_bot_sends_total/).toBe(true);
    has(/sum by \(bot, method\) \(rate\(topicdesk_telegram_429_total/).toBe(true);
    has(
      /histogram_quantile\(0\.95, sum by \(le, priority\) \(rate\(topicdesk_telegram_send_wait_seconds_bucket/,
    ).toBe(true);
    has(/sum by \(purpose\) \(rate\(topicdesk_telegram_group_calls_total/).toBe(true);
    has(/topicdesk_telegram_sends_waiting/).toBe(true);
    const ids = dashboard.panels.map((p) => (p as { id?: number }).id);
    expect(new Set(ids).size, 'panel ids are unique').toBe(ids.length);
  });

  it('has a per-tenant view: a tenant variable and a Tenants row of messages, sends, 429s and refusals by tenant', () => {
    const variables = (dashboard as unknown as { templating: { list: Array<Json> } }).templating
      .list;
    // `.+` for All: series without a tenant label (per-address limits) stay out of the row.
    expect(variables.find((v) => v['name'] === 'tenant')).toMatchObject({
      type: 'query',
      includeAll: true,
      allValue: '.+',
      definition: expect.stringMatching(/^label_values\(topicdesk_\w+, tenant\)$/),
    });
    const rowAt = dashboard.panels.findIndex((p) => p.type === 'row' && p.title === 'Tenants');
    expect(rowAt).toBeGreaterThan(-1);
    const nextRow = dashboard.panels.findIndex((p, i) => i > rowAt && p.type === 'row');
    const row = dashboard.panels
      .slice(rowAt + 1, nextRow === -1 ? undefined : nextRow)
      .flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    for (const metric of [
      'topicdesk_conversations_started_total',
      'topicdesk_messages_in_total',
      'topicdesk_telegram_calls_total',
      'topicdesk_telegram_429_total',
      'topicdesk_rate_limit_hits_total',
    ]) {
      const expr = row.find((e) => e.includes(metric));
      expect(expr, metric).toMatch(/^sum by \(tenant\b/);
      expect(expr, metric).toContain('tenant=~"$tenant"');
    }
  });
});
