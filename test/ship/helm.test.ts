import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import type {
  V1Container,
  V1Deployment,
  V1EnvVar,
  V1Ingress,
  V1Namespace,
  V1PodSpec,
  V1PodTemplateSpec,
  V1Role,
  V1RoleBinding,
  V1Secret,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';
import {
  RELEASE_NAME,
  RELEASE_NAMESPACE,
  byKind,
  chartDir,
  helm,
  one,
  render,
  renderRaw,
  repoRoot,
  scenarioFiles,
  type K8sObject,
} from './helm.js';
import { validateObject } from './k8s-schema.js';
import { describeConfig, loadConfig } from '../../src/config.js';

const FULLNAME = `${RELEASE_NAME}-oomtest`;
const DEFAULTS = 'defaults';
const scenarios = [DEFAULTS, ...scenarioFiles()];

function renderScenario(scenario: string): K8sObject[] {
  return render({ values: scenario === DEFAULTS ? [] : [scenario] });
}

function podTemplates(objects: K8sObject[]): Array<{ name: string; template: V1PodTemplateSpec }> {
  return objects
    .filter((object) => object.kind === 'Deployment' || object.kind === 'StatefulSet')
    .map((object) => ({
      name: `${object.kind}/${object.metadata.name}`,
      template: (object as unknown as V1Deployment | V1StatefulSet).spec!.template,
    }));
}

function container(objects: K8sObject[], deployment: string): V1Container {
  const spec = one(objects, 'Deployment', deployment) as unknown as V1Deployment;
  return spec.spec!.template.spec!.containers[0]!;
}

function env(objects: K8sObject[], deployment: string): Map<string, V1EnvVar> {
  return new Map((container(objects, deployment).env ?? []).map((item) => [item.name, item]));
}

function configData(objects: K8sObject[]): Record<string, string> {
  return (one(objects, 'ConfigMap', FULLNAME) as unknown as { data: Record<string, string> }).data;
}

/** The names of Secrets the release itself renders. */
function renderedSecrets(objects: K8sObject[]): Map<string, Record<string, string>> {
  return new Map(
    byKind(objects, 'Secret').map((secret) => [
      secret.metadata.name,
      (secret as unknown as V1Secret).data ?? {},
    ]),
  );
}

describe('the schema check itself', () => {
  it('reports unknown fields, wrong types, nulls and missing required fields', () => {
    const broken = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x', lables: {} },
      spec: {
        replicas: '2',
        selector: { matchLabels: { a: 'b' } },
        template: {
          spec: {
            containers: [{ image: 'busybox', ports: [{ containerPort: 80.5 }], env: null }],
          },
        },
      },
    };

    const problems = validateObject(broken);

    expect(problems).toEqual(
      expect.arrayContaining([
        'Deployment/x.metadata.lables: unknown field in V1ObjectMeta',
        'Deployment/x.spec.replicas: expected number, got string',
        'Deployment/x.spec.template.spec.containers[0].ports[0].containerPort: expected integer, got number',
        'Deployment/x.spec.template.spec.containers[0].env: null (an empty template value?)',
        'Deployment/x.spec.template.spec.containers[0].name: required by V1Container',
      ]),
    );
  });

  it('refuses a kind served under another apiVersion', () => {
    const ingress = { apiVersion: 'extensions/v1beta1', kind: 'Ingress', metadata: { name: 'i' } };

    expect(validateObject(ingress)).toEqual([
      'Ingress/i: apiVersion extensions/v1beta1, the API serves Ingress at networking.k8s.io/v1',
    ]);
  });
});

describe.each(scenarios)('chart with %s', (scenario) => {
  const valuesArgs = scenario === DEFAULTS ? [] : ['--values', join(repoRoot, scenario)];
  let objects: K8sObject[];

  beforeAll(() => {
    objects = renderScenario(scenario);
  });

  it('passes helm lint --strict', () => {
    const result = helm([
      'lint',
      chartDir,
      '--strict',
      '--namespace',
      RELEASE_NAMESPACE,
      ...valuesArgs,
    ]);

    expect(result.stderr + result.stdout).toContain('0 chart(s) failed');
    expect(result.status).toBe(0);
  });

  it('renders only objects the Kubernetes API would accept', () => {
    const problems = objects
      .filter((object) => object.kind !== 'ServiceMonitor')
      .flatMap((object) => validateObject(object));

    expect(problems).toEqual([]);
  });

  it('renders bot and worker Deployments with probes on /healthz and /readyz', () => {
    for (const name of [`${FULLNAME}-bot`, `${FULLNAME}-worker`]) {
      const main = container(objects, name);

      expect(main.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(main.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(main.ports?.[0]).toMatchObject({ name: 'http', containerPort: 3000 });
    }
    expect(container(objects, `${FULLNAME}-bot`).args).toEqual(['bot']);
    expect(container(objects, `${FULLNAME}-worker`).args).toEqual(['worker']);
  });

  it('runs every pod of its own under the restricted Pod Security profile', () => {
    for (const { name, template } of podTemplates(objects)) {
      const spec = template.spec as V1PodSpec;

      expect({ name, pod: spec.securityContext }).toMatchObject({
        name,
        pod: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      });
      for (const item of [...spec.containers, ...(spec.initContainers ?? [])]) {
        expect({ name, container: item.securityContext }).toEqual({
          name,
          container: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ['ALL'] },
          },
        });
        expect(spec.hostNetwork ?? spec.hostPID ?? spec.hostIPC).toBeUndefined();
      }
    }
  });

  it('rolls bot and worker pods through checksum annotations', () => {
    for (const name of [`${FULLNAME}-bot`, `${FULLNAME}-worker`]) {
      const template = (one(objects, 'Deployment', name) as unknown as V1Deployment).spec!.template;

      expect(template.metadata?.annotations?.['checksum/config']).toMatch(/^[a-f0-9]{64}$/);
      expect(template.metadata?.annotations?.['checksum/secret']).toMatch(/^[a-f0-9]{64}$/);
    }
  });

  it('refers only to Secrets it renders or that the values name', () => {
    const values = scenario === DEFAULTS ? '' : readFileSync(join(repoRoot, scenario), 'utf8');
    const secrets = renderedSecrets(objects);

    for (const { name, template } of podTemplates(objects)) {
      for (const item of template.spec!.containers) {
        for (const variable of item.env ?? []) {
          const ref = variable.valueFrom?.secretKeyRef;
          if (ref === undefined) continue;
          const rendered = secrets.get(ref.name!);
          const where = `${name} ${variable.name}`;

          if (rendered !== undefined && !ref.optional) {
            expect({ where, keys: Object.keys(rendered) }).toEqual({
              where,
              keys: expect.arrayContaining([ref.key]),
            });
          }
          if (rendered === undefined)
            expect({ where, values }).toEqual({
              where,
              values: expect.stringContaining(ref.name!),
            });
        }
      }
    }
  });

  it('selects its pods with its Services, and its Ingress routes to a rendered Service', () => {
    const podLabels = podTemplates(objects).map(({ template }) => template.metadata!.labels!);

    for (const service of byKind(objects, 'Service') as unknown as V1Service[]) {
      const selector = Object.entries(service.spec!.selector!);
      const matches = podLabels.filter((labels) => selector.every(([k, v]) => labels[k] === v));

      expect({ service: service.metadata!.name, matches: matches.length }).toEqual({
        service: service.metadata!.name,
        matches: 1,
      });
    }
    for (const ingress of byKind(objects, 'Ingress') as unknown as V1Ingress[]) {
      for (const rule of ingress.spec!.rules!) {
        for (const path of rule.http!.paths) {
          expect(() => one(objects, 'Service', path.backend.service!.name)).not.toThrow();
        }
      }
    }
  });

  it('grants nothing cluster-wide', () => {
    expect(byKind(objects, 'ClusterRole')).toEqual([]);
    expect(byKind(objects, 'ClusterRoleBinding')).toEqual([]);
  });

  it('gives the worker, and only the worker, a service account token', () => {
    const bot = one(objects, 'Deployment', `${FULLNAME}-bot`) as unknown as V1Deployment;
    const worker = one(objects, 'Deployment', `${FULLNAME}-worker`) as unknown as V1Deployment;

    expect(bot.spec!.template.spec!.automountServiceAccountToken).toBe(false);
    expect(worker.spec!.template.spec!.automountServiceAccountToken).toBe(true);
  });
});

describe('chart defaults', () => {
  let objects: K8sObject[];

  beforeAll(() => {
    objects = render();
  });

  it('lets drills use the release namespace alone, with one Role there', () => {
    const roles = byKind(objects, 'Role');

    expect(configData(objects)).toMatchObject({
      OOMTEST_NAMESPACE: RELEASE_NAMESPACE,
      OOMTEST_ALLOWED_NAMESPACES: RELEASE_NAMESPACE,
    });
    expect(roles.map((role) => role.metadata.namespace)).toEqual([RELEASE_NAMESPACE]);
  });

  it('runs HTTP mode: a signing secret and no app token', () => {
    const variables = env(objects, `${FULLNAME}-bot`);

    expect(
      variables.get('SLACK_SIGNING_SECRET')?.valueFrom?.secretKeyRef?.optional,
    ).toBeUndefined();
    expect(variables.has('SLACK_APP_TOKEN')).toBe(false);
    expect(byKind(objects, 'Ingress')).toEqual([]);
  });

  it('bundles a password-protected Redis that persists to a volume and never evicts', () => {
    const redis = one(objects, 'StatefulSet', `${FULLNAME}-redis`) as unknown as V1StatefulSet;
    const main = redis.spec!.template.spec!.containers[0]!;
    const url = env(objects, `${FULLNAME}-worker`).get('REDIS_URL');

    expect(redis.spec!.replicas).toBe(1);
    expect(main.args).toEqual(
      expect.arrayContaining([
        '--appendonly',
        'yes',
        '--maxmemory-policy',
        'noeviction',
        '--requirepass',
      ]),
    );
    expect(redis.spec!.volumeClaimTemplates?.[0]?.spec?.resources?.requests).toEqual({
      storage: '1Gi',
    });
    expect(url?.value).toBe(`redis://:$(REDIS_PASSWORD)@${FULLNAME}-redis:6379`);
    expect(
      Buffer.from(
        renderedSecrets(objects).get(`${FULLNAME}-redis`)!['redis-password']!,
        'base64',
      ).toString(),
    ).toMatch(/^[A-Za-z0-9]{32}$/);
  });

  it('puts only settings that src/config.ts reads into the ConfigMap', () => {
    const source = readFileSync(join(repoRoot, 'src/config.ts'), 'utf8');
    const read = new Set(
      [...source.matchAll(/\(\s*'([A-Z][A-Z0-9_]+)'/g)].map((match) => match[1]),
    );

    for (const key of Object.keys(configData(objects))) {
      expect({ key, readByConfig: read.has(key) }).toEqual({ key, readByConfig: true });
    }
  });

  it('sets every OOMTEST_* setting that src/config.ts reads', () => {
    const source = readFileSync(join(repoRoot, 'src/config.ts'), 'utf8');
    const settings = [...source.matchAll(/\(\s*'(OOMTEST_[A-Z0-9_]+)'/g)].map((match) => match[1]!);
    const data = configData(objects);

    expect(settings.length).toBeGreaterThan(5);
    for (const setting of settings)
      expect({ setting, set: setting in data }).toEqual({ setting, set: true });
  });
});

describe('chart scenarios', () => {
  it('routes only /slack/events through the Ingress in HTTP mode', () => {
    const objects = render({ values: ['helm/oomtest/ci/http-ingress-values.yaml'] });
    const ingress = one(objects, 'Ingress', FULLNAME) as unknown as V1Ingress;
    const rule = ingress.spec!.rules![0]!;

    expect(rule.host).toBe('oomtest.example.com');
    expect(rule.http!.paths).toEqual([
      {
        path: '/slack/events',
        pathType: 'Exact',
        backend: { service: { name: `${FULLNAME}-bot`, port: { name: 'http' } } },
      },
    ]);
    expect(ingress.spec!.tls).toEqual([
      { secretName: 'oomtest-tls', hosts: ['oomtest.example.com'] },
    ]);
  });

  it('scrapes bot and worker with a ServiceMonitor when asked', () => {
    const objects = render({ values: ['helm/oomtest/ci/http-ingress-values.yaml'] });
    const monitor = one(objects, 'ServiceMonitor', FULLNAME) as unknown as {
      apiVersion: string;
      metadata: { labels: Record<string, string> };
      spec: Record<string, unknown>;
    };

    // A CRD: no generated model, so its shape is checked by hand.
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(monitor.metadata.labels.release).toBe('kube-prometheus-stack');
    expect(Object.keys(monitor.spec).sort()).toEqual([
      'endpoints',
      'namespaceSelector',
      'selector',
    ]);
    expect(monitor.spec.endpoints).toEqual([
      { port: 'http', path: '/metrics', interval: '30s', scrapeTimeout: '10s' },
    ]);
    expect(monitor.spec.namespaceSelector).toEqual({ matchNames: [RELEASE_NAMESPACE] });
    for (const component of ['bot', 'worker']) {
      const service = one(objects, 'Service', `${FULLNAME}-${component}`) as unknown as V1Service;
      expect(service.metadata!.labels!['app.kubernetes.io/component']).toBe(component);
      expect(service.spec!.ports![0]!.name).toBe('http');
    }
  });

  it('admits only bot and worker to Redis when NetworkPolicies are on', () => {
    const objects = render({ values: ['helm/oomtest/ci/http-ingress-values.yaml'] });
    const policy = one(objects, 'NetworkPolicy', `${FULLNAME}-redis`) as unknown as {
      spec: {
        ingress: Array<{ from: Array<{ podSelector: { matchLabels: Record<string, string> } }> }>;
      };
    };
    const components = policy.spec.ingress[0]!.from.map(
      (peer) => peer.podSelector.matchLabels['app.kubernetes.io/component'],
    );

    expect(components).toEqual(['bot', 'worker']);
  });

  it('passes the app token in Socket Mode and renders no Ingress', () => {
    const objects = render({ values: ['helm/oomtest/ci/socket-mode-values.yaml'] });
    const variables = env(objects, `${FULLNAME}-bot`);

    expect(variables.get('SLACK_APP_TOKEN')?.valueFrom?.secretKeyRef).toEqual({
      name: FULLNAME,
      key: 'SLACK_APP_TOKEN',
    });
    expect(variables.get('SLACK_SIGNING_SECRET')?.valueFrom?.secretKeyRef?.optional).toBe(true);
    expect(byKind(objects, 'Ingress')).toEqual([]);
  });

  it('refuses an Ingress in Socket Mode, naming both values', () => {
    const result = renderRaw({
      values: ['helm/oomtest/ci/socket-mode-values.yaml'],
      set: ['ingress.enabled=true', 'ingress.hosts[0]=oomtest.example.com'],
    });

    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('ingress.enabled is true but slack.mode is socket');
  });

  it('refuses Socket Mode without an app token', () => {
    const result = renderRaw({ set: ['slack.mode=socket', 'slack.botToken=xoxb-1'] });

    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('slack.mode=socket needs slack.appToken');
  });

  it('reads tokens from an existing Secret under its own key names and renders no Slack Secret', () => {
    const objects = render({ values: ['helm/oomtest/ci/existing-secret-values.yaml'] });
    const variables = env(objects, `${FULLNAME}-worker`);

    expect(renderedSecrets(objects).has(FULLNAME)).toBe(false);
    expect(variables.get('SLACK_BOT_TOKEN')?.valueFrom?.secretKeyRef).toEqual({
      name: 'slack-oomtest',
      key: 'bot-token',
    });
    expect(variables.get('SLACK_APP_TOKEN')?.valueFrom?.secretKeyRef).toEqual({
      name: 'slack-oomtest',
      key: 'app-token',
    });
    expect(variables.get('REDIS_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({
      name: 'oomtest-redis-auth',
      key: 'password',
    });
    expect(renderedSecrets(objects).has(`${FULLNAME}-redis`)).toBe(false);
  });

  it('uses an external Redis from a Secret and deploys none', () => {
    const objects = render({ values: ['helm/oomtest/ci/external-redis-values.yaml'] });
    const ref = env(objects, `${FULLNAME}-worker`).get('REDIS_URL')?.valueFrom?.secretKeyRef;
    const stored = renderedSecrets(objects).get(ref!.name!)![ref!.key]!;

    expect(byKind(objects, 'StatefulSet')).toEqual([]);
    expect(Buffer.from(stored, 'base64').toString()).toBe(
      'rediss://:s3cret@redis.example.internal:6380/2',
    );
    expect(JSON.stringify(configData(objects))).not.toContain('s3cret');
  });

  it('grants the drill Role in each drill namespace, binds it to the worker, and creates them privileged', () => {
    const objects = render({ values: ['helm/oomtest/ci/drill-namespaces-values.yaml'] });
    const drillNamespaces = ['oomtest-drills', 'team-a-gameday', 'team-b-gameday'];
    const roles = byKind(objects, 'Role') as unknown as V1Role[];
    const bindings = byKind(objects, 'RoleBinding') as unknown as V1RoleBinding[];
    const namespaces = byKind(objects, 'Namespace') as unknown as V1Namespace[];

    expect(roles.map((role) => role.metadata!.namespace)).toEqual(drillNamespaces);
    expect(bindings.map((binding) => binding.metadata!.namespace)).toEqual(drillNamespaces);
    for (const binding of bindings) {
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: FULLNAME, namespace: RELEASE_NAMESPACE },
      ]);
      expect(binding.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: `${FULLNAME}-drills`,
      });
    }
    expect(namespaces.map((namespace) => namespace.metadata!.name)).toEqual(drillNamespaces);
    for (const namespace of namespaces) {
      expect(namespace.metadata!.labels!['pod-security.kubernetes.io/enforce']).toBe('privileged');
      expect(namespace.metadata!.annotations!['helm.sh/resource-policy']).toBe('keep');
    }
    expect(configData(objects)).toMatchObject({
      OOMTEST_NAMESPACE: 'team-a-gameday',
      OOMTEST_ALLOWED_NAMESPACES: drillNamespaces.join(','),
      OOMTEST_ALLOWED_USERS: 'U012AB3CD,W0123ABCD',
      OOMTEST_ALLOWED_CHANNELS: 'C0123GAME',
      OOMTEST_ALLOWED_CLUSTERS: 'staging-eu,staging-us',
      OOMTEST_MAX_MEMORY: '2Gi',
    });
  });

  it('mounts a kubeconfig for other clusters read-only into the worker only', () => {
    const objects = render({ values: ['helm/oomtest/ci/drill-namespaces-values.yaml'] });
    const worker = container(objects, `${FULLNAME}-worker`);

    expect(env(objects, `${FULLNAME}-worker`).get('KUBECONFIG')?.value).toBe(
      '/etc/oomtest/kubeconfig/config',
    );
    expect(worker.volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'kubeconfig', mountPath: '/etc/oomtest/kubeconfig', readOnly: true },
    ]);
    expect(env(objects, `${FULLNAME}-bot`).has('KUBECONFIG')).toBe(false);
  });

  it('leaves KUBECONFIG unset in-cluster so the worker uses its service account', () => {
    expect(env(render(), `${FULLNAME}-worker`).has('KUBECONFIG')).toBe(false);
  });

  it('refuses to label the release namespace privileged', () => {
    const result = renderRaw({
      set: ['podSecurity.labelDrillNamespaces=true', `drills.namespaces[0]=${RELEASE_NAMESPACE}`],
    });

    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(
      `would relax Pod Security in the release namespace "${RELEASE_NAMESPACE}"`,
    );
  });

  it('creates no RBAC and no service account when both are turned off', () => {
    const objects = render({ values: ['helm/oomtest/ci/no-rbac-values.yaml'] });
    const worker = one(objects, 'Deployment', `${FULLNAME}-worker`) as unknown as V1Deployment;

    expect(byKind(objects, 'Role')).toEqual([]);
    expect(byKind(objects, 'RoleBinding')).toEqual([]);
    expect(byKind(objects, 'ServiceAccount')).toEqual([]);
    expect(worker.spec!.template.spec!.serviceAccountName).toBe('oomtest-preprovisioned');
  });

  it('changes checksum/config when a setting changes, and only then', () => {
    const checksum = (set: string[]) => {
      const objects = render({ set });
      const worker = one(objects, 'Deployment', `${FULLNAME}-worker`) as unknown as V1Deployment;
      return worker.spec!.template.metadata!.annotations!['checksum/config'];
    };

    const before = checksum(['drills.maxMemory=4Gi']);

    expect(checksum(['drills.maxMemory=4Gi'])).toBe(before);
    expect(checksum(['drills.maxMemory=8Gi'])).not.toBe(before);
  });

  it('changes checksum/secret when a token changes', () => {
    const checksum = (token: string) => {
      const objects = render({
        values: ['helm/oomtest/ci/external-redis-values.yaml'],
        set: [`slack.botToken=${token}`],
      });
      const bot = one(objects, 'Deployment', `${FULLNAME}-bot`) as unknown as V1Deployment;
      return bot.spec!.template.metadata!.annotations!['checksum/secret'];
    };

    expect(checksum('xoxb-1')).toBe(checksum('xoxb-1'));
    expect(checksum('xoxb-2')).not.toBe(checksum('xoxb-1'));
  });
});

describe('values.schema.json', () => {
  it.each([
    [['slack.mode=websocket'], 'slack.mode must be one of the following: "http", "socket"'],
    [['drills.kills=11'], 'drills.kills: Must be less than or equal to 10'],
    [['drills.maxMemory=200MB'], 'drills.maxMemory: Does not match pattern'],
    [['drills.namespaces[0]=Team_A'], 'drills.namespaces.0: Does not match pattern'],
    [['slack.botToken=xoxp-user-token'], 'slack.botToken: Does not match pattern'],
    [['rbac.creat=true'], 'Additional property creat is not allowed'],
    [['redis.bundled.auth.password=p@ss'], 'redis.bundled.auth.password: Does not match pattern'],
  ])('rejects %j, naming the problem', (set, message) => {
    const result = renderRaw({ set });

    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(message);
  });

  it('rejects a default namespace outside the drill namespaces', () => {
    const result = renderRaw({ set: ['drills.namespaces[0]=a', 'drills.defaultNamespace=b'] });

    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('drills.defaultNamespace "b" is not one of drills.namespaces');
  });
});

describe('values.yaml', () => {
  it('documents every value with a "# --" comment directly above it', () => {
    const lines = readFileSync(join(chartDir, 'values.yaml'), 'utf8').split('\n');
    const undocumented: string[] = [];

    lines.forEach((line, index) => {
      const key = /^(\s*)([A-Za-z][A-Za-z0-9]*):/.exec(line);
      if (key === null) return;
      let above = index - 1;
      while (above >= 0 && /^\s*#(?! --)/.test(lines[above]!)) above -= 1;
      if (!/^\s*# -- /.test(lines[above] ?? '')) undocumented.push(`${index + 1}: ${key[2]}`);
    });

    expect(undocumented).toEqual([]);
  });
});

describe('NOTES.txt', () => {
  let dir: string;

  beforeAll(() => {
    // helm template leaves NOTES.txt out; a copy of the chart renders it into a ConfigMap.
    dir = mkdtempSync(join(tmpdir(), 'oomtest-notes-'));
    cpSync(chartDir, join(dir, 'oomtest'), { recursive: true });
    const notes = readFileSync(join(chartDir, 'templates/NOTES.txt'), 'utf8');
    writeFileSync(
      join(dir, 'oomtest/templates/_notes.tpl'),
      `{{- define "notes" -}}\n${notes}{{- end }}\n`,
    );
    writeFileSync(
      join(dir, 'oomtest/templates/zz-notes.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  text: {{ include "notes" . | toJson }}\n',
    );
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function notes(args: string[]): string {
    const result = helm([
      'template',
      RELEASE_NAME,
      join(dir, 'oomtest'),
      '-n',
      RELEASE_NAMESPACE,
      ...args,
    ]);
    if (result.status !== 0) throw new Error(result.stderr);
    const objects = loadAll(result.stdout) as K8sObject[];
    const configMap = objects.find((object) => object?.metadata?.name === 'notes') as unknown as {
      data: { text: string };
    };
    return configMap.data.text;
  }

  it('gives the request URL of each Ingress host in HTTP mode', () => {
    const text = notes(['--values', join(repoRoot, 'helm/oomtest/ci/http-ingress-values.yaml')]);

    expect(text).toContain('https://oomtest.example.com/slack/events');
    expect(text).toContain('/oomtest help');
    expect(text).not.toContain('WARNING');
  });

  it('needs no request URL in Socket Mode', () => {
    const text = notes(['--values', join(repoRoot, 'helm/oomtest/ci/socket-mode-values.yaml')]);

    expect(text).toContain('Socket Mode');
    expect(text).not.toContain('/slack/events');
  });

  it('warns when there is no bot token, and tells how to bind RBAC when the chart does not', () => {
    const text = notes(['--set', 'rbac.create=false']);

    expect(text).toContain('WARNING: no Slack bot token');
    expect(text).toContain('rbac.create=false');
    expect(text).toContain(`https://YOUR-PUBLIC-HOST/slack/events`);
  });
});

/** Stand-ins for values in Secrets the chart does not render (existingSecret scenarios). */
const EXTERNAL_SECRET_VALUES: Record<string, string> = {
  SLACK_BOT_TOKEN: 'xoxb-external',
  SLACK_SIGNING_SECRET: 'external-signing-secret',
  SLACK_APP_TOKEN: 'xapp-external',
  REDIS_PASSWORD: 'externalpassword',
  REDIS_URL: 'redis://:externalpassword@redis.example.internal:6379',
};

/** The environment the kubelet would give a container: envFrom, then env with $(VAR) expansion. */
function containerEnv(objects: K8sObject[], deployment: string): Record<string, string> {
  const main = container(objects, deployment);
  const secrets = renderedSecrets(objects);
  const env: Record<string, string> = {};

  for (const source of main.envFrom ?? []) {
    Object.assign(env, configDataNamed(objects, source.configMapRef!.name!));
  }
  for (const variable of main.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref === undefined) {
      env[variable.name] = (variable.value ?? '').replace(
        /\$\(([A-Z_]+)\)/g,
        (_, name: string) => env[name] ?? '',
      );
      continue;
    }
    const data = secrets.get(ref.name!);
    const stored = data?.[ref.key];
    if (stored !== undefined) env[variable.name] = Buffer.from(stored, 'base64').toString();
    else if (data === undefined) env[variable.name] = EXTERNAL_SECRET_VALUES[variable.name]!;
    else if (!ref.optional) throw new Error(`${deployment}: ${variable.name} needs key ${ref.key}`);
  }
  return env;
}

function configDataNamed(objects: K8sObject[], name: string): Record<string, string> {
  return (one(objects, 'ConfigMap', name) as unknown as { data: Record<string, string> }).data;
}

describe.each(scenarios.filter((scenario) => scenario !== DEFAULTS))(
  'settings rendered with %s',
  (scenario) => {
    it.each([
      ['bot', 'bot'],
      ['worker', 'worker'],
    ] as const)('are accepted by the %s process configuration', (component, role) => {
      const env = containerEnv(renderScenario(scenario), `${FULLNAME}-${component}`);

      expect(() => loadConfig(role, env)).not.toThrow();
    });
  },
);

describe('settings rendered with the defaults', () => {
  it('stop the processes with one clear message: the Slack credentials are missing', () => {
    const env = containerEnv(render(), `${FULLNAME}-bot`);

    expect(() => loadConfig('bot', env)).toThrow(
      'invalid configuration:\n  - SLACK_BOT_TOKEN is required\n  - SLACK_SIGNING_SECRET is required',
    );
  });

  it('select Socket Mode exactly when slack.mode is socket', () => {
    const socket = containerEnv(
      render({ values: ['helm/oomtest/ci/socket-mode-values.yaml'] }),
      `${FULLNAME}-bot`,
    );
    const http = containerEnv(
      render({ values: ['helm/oomtest/ci/http-ingress-values.yaml'] }),
      `${FULLNAME}-bot`,
    );

    expect(describeConfig(loadConfig('bot', socket)).mode).toBe('socket');
    expect(describeConfig(loadConfig('bot', http)).mode).toBe('http');
  });

  it('reach the worker as the values say', () => {
    const env = containerEnv(
      render({ values: ['helm/oomtest/ci/drill-namespaces-values.yaml'] }),
      `${FULLNAME}-worker`,
    );
    const config = loadConfig('worker', env);

    expect(config.allowedNamespaces).toEqual([
      'oomtest-drills',
      'team-a-gameday',
      'team-b-gameday',
    ]);
    expect(config.defaults.namespace).toBe('team-a-gameday');
    expect(config.defaults.kills).toBe(3);
    expect(config.defaults.timeoutSeconds).toBe(300);
    expect(config.workerConcurrency).toBe(100);
    expect(config.allowedClusters).toEqual(['staging-eu', 'staging-us']);
    expect(config.kubeconfigPath).toBe('/etc/oomtest/kubeconfig/config');
    expect(config.redisUrl).toMatch(
      new RegExp(`^redis://:[A-Za-z0-9]{32}@${FULLNAME}-redis:6379$`),
    );
  });
});
