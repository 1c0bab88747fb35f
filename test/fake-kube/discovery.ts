/**
 * Discovery documents for the resources the fake serves: aggregated discovery
 * (apidiscovery.k8s.io/v2, what a 1.30 apiserver answers when asked) and the legacy per-version
 * lists for clients that do not ask for it.
 *
 * Known gap: no API groups are served, so `kubectl get deployments` and the like fail with
 * "the server doesn't have a resource type".
 */

interface ApiResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
}

const OBJECT_VERBS = [
  'create',
  'delete',
  'deletecollection',
  'get',
  'list',
  'patch',
  'update',
  'watch',
];

export const CORE_RESOURCES: ApiResource[] = [
  {
    name: 'events',
    singularName: 'event',
    namespaced: true,
    kind: 'Event',
    verbs: OBJECT_VERBS,
    shortNames: ['ev'],
  },
  {
    name: 'namespaces',
    singularName: 'namespace',
    namespaced: false,
    kind: 'Namespace',
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    shortNames: ['ns'],
  },
  {
    name: 'namespaces/status',
    singularName: '',
    namespaced: false,
    kind: 'Namespace',
    verbs: ['get', 'patch', 'update'],
  },
  {
    name: 'nodes',
    singularName: 'node',
    namespaced: false,
    kind: 'Node',
    verbs: OBJECT_VERBS,
    shortNames: ['no'],
  },
  {
    name: 'pods',
    singularName: 'pod',
    namespaced: true,
    kind: 'Pod',
    verbs: OBJECT_VERBS,
    shortNames: ['po'],
    categories: ['all'],
  },
  { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] },
  {
    name: 'pods/status',
    singularName: '',
    namespaced: true,
    kind: 'Pod',
    verbs: ['get', 'patch', 'update'],
  },
  {
    name: 'resourcequotas',
    singularName: 'resourcequota',
    namespaced: true,
    kind: 'ResourceQuota',
    verbs: OBJECT_VERBS,
    shortNames: ['quota'],
  },
];

export function versionInfo(): object {
  return {
    major: '1',
    minor: '30',
    gitVersion: 'v1.30.0',
    gitCommit: '7c48c2bd72b9bf5c44d21d7338cc7bea77d0ad2a',
    gitTreeState: 'clean',
    buildDate: '2024-04-17T17:27:03Z',
    goVersion: 'go1.22.2',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export function apiVersions(serverAddress: string): object {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

export function apiGroupList(): object {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [] };
}

export function coreResourceList(): object {
  return { kind: 'APIResourceList', groupVersion: 'v1', resources: CORE_RESOURCES };
}

/** Which core resources exist, for routing: name → namespaced. */
export function resourceScope(resource: string): boolean | undefined {
  return CORE_RESOURCES.find((entry) => entry.name === resource)?.namespaced;
}

// Changes whenever the served document changes; clients cache per hash.
const OPENAPI_HASH = 'F1A5E0C0FFEE0001';

/** /openapi/v3: one group-version, core v1. */
export function openApiV3Index(): object {
  return { paths: { 'api/v1': { serverRelativeURL: `/openapi/v3/api/v1?hash=${OPENAPI_HASH}` } } };
}

/**
 * /openapi/v3/api/v1, reduced to what clients read from it: the PATCH operations with their
 * group-version-kind and the `fieldValidation` parameter. kubectl (create/apply/replace)
 * checks for that parameter to choose server-side field validation; without any OpenAPI it
 * refuses to create anything unless given --validate=false.
 * Known gap: no schemas, so `kubectl explain` and client-side validation have nothing to use,
 * and fieldValidation=Strict is accepted but unknown fields are not reported.
 */
export function openApiV3CoreV1(): object {
  const paths: Record<string, object> = {};
  for (const resource of CORE_RESOURCES.filter((entry) => !entry.name.includes('/'))) {
    const base = resource.namespaced
      ? `/api/v1/namespaces/{namespace}/${resource.name}`
      : `/api/v1/${resource.name}`;
    const gvk = { group: '', version: 'v1', kind: resource.kind };
    const parameters = ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({
      name,
      in: 'query',
      schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true },
    }));
    paths[`${base}/{name}`] = {
      patch: {
        operationId: `patchCoreV1${resource.namespaced ? 'Namespaced' : ''}${resource.kind}`,
        parameters,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': gvk,
        responses: { '200': { description: 'OK' } },
      },
    };
    paths[base] = {
      post: {
        operationId: `createCoreV1${resource.namespaced ? 'Namespaced' : ''}${resource.kind}`,
        parameters: parameters.filter((parameter) => parameter.name !== 'force'),
        'x-kubernetes-action': 'post',
        'x-kubernetes-group-version-kind': gvk,
        responses: { '201': { description: 'Created' } },
      },
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.30.0' },
    paths,
    components: { schemas: {} },
  };
}

/** The media type a client names in Accept to get aggregated discovery, and the reply's type. */
export const AGGREGATED_DISCOVERY_TYPE =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

export function wantsAggregatedDiscovery(accept: string | undefined): boolean {
  return (accept ?? '')
    .split(',')
    .some(
      (part) =>
        /g=apidiscovery\.k8s\.io/.test(part) &&
        /v=v2(;|$)/.test(part) &&
        /as=APIGroupDiscoveryList/.test(part),
    );
}

/** /api as apidiscovery.k8s.io/v2: the core group with its one version and resources. */
export function aggregatedCoreDiscovery(): object {
  const topLevel = CORE_RESOURCES.filter((entry) => !entry.name.includes('/'));
  const resources = topLevel.map((entry) => ({
    resource: entry.name,
    responseKind: { group: '', version: 'v1', kind: entry.kind },
    scope: entry.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: entry.singularName,
    verbs: entry.verbs,
    ...(entry.shortNames ? { shortNames: entry.shortNames } : {}),
    ...(entry.categories ? { categories: entry.categories } : {}),
    subresources: CORE_RESOURCES.filter((sub) => sub.name.startsWith(`${entry.name}/`)).map(
      (sub) => ({
        subresource: sub.name.split('/')[1],
        responseKind: { group: '', version: 'v1', kind: sub.kind },
        verbs: sub.verbs,
      }),
    ),
  }));
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items: [
      {
        metadata: { creationTimestamp: null },
        versions: [{ version: 'v1', resources, freshness: 'Current' }],
      },
    ],
  };
}

/** /apis as apidiscovery.k8s.io/v2: no groups. */
export function aggregatedGroupsDiscovery(): object {
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items: [],
  };
}
