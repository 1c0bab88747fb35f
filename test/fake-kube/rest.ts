/**
 * Request plumbing shared by the fake's REST handlers: bodies, kinds, paging tokens, delete
 * options and preconditions, patches, and the pod update rules.
 */
import type { IncomingMessage } from 'node:http';
import { ApiError, badRequest, conflict, invalid, statusBody } from './status.js';
import type { IncludeObject } from './table.js';
import type { KubeObject, PodJson, StatusJson } from './types.js';
import { clone } from './util.js';

export const KINDS: Record<string, string> = {
  pods: 'Pod',
  events: 'Event',
  namespaces: 'Namespace',
  resourcequotas: 'ResourceQuota',
  nodes: 'Node',
};

/** A parsed /api/v1 path. */
export interface Route {
  resource: string;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string;
}

export function notFoundPath(): ApiError {
  return new ApiError(
    statusBody({
      code: 404,
      reason: 'NotFound',
      message: 'the server could not find the requested resource',
      details: {},
    }),
  );
}

export async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(error as Error).message}`);
  }
}

export function asObject(body: unknown): KubeObject {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw badRequest("Object 'Kind' is missing in 'null'");
  const object = body as KubeObject;
  object.metadata = { ...(object.metadata ?? {}) };
  return object;
}

export function withKind(resource: string): (object: KubeObject) => KubeObject {
  return (object) => ({ ...object, apiVersion: 'v1', kind: KINDS[resource] ?? object.kind });
}

export function includeOf(query: Record<string, string>): IncludeObject {
  const value = query.includeObject;
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}

export function encodeContinue(start: number, rv: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: Number(rv), start })).toString(
    'base64url',
  );
}

export function decodeContinue(token: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      start?: unknown;
    };
    if (typeof parsed.start === 'number') return parsed.start;
  } catch {
    // fall through to the apiserver's answer for a token it cannot read
  }
  throw badRequest(
    'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
  );
}

export interface DeleteOptionsJson {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export function deleteOptions(body: unknown, query: Record<string, string>): DeleteOptionsJson {
  const fromBody = (body && typeof body === 'object' ? body : {}) as {
    gracePeriodSeconds?: number;
    preconditions?: { uid?: string; resourceVersion?: string };
    dryRun?: string[];
  };
  const grace =
    query.gracePeriodSeconds !== undefined
      ? Number(query.gracePeriodSeconds)
      : fromBody.gracePeriodSeconds;
  return {
    ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}),
    ...(fromBody.preconditions ? { preconditions: fromBody.preconditions } : {}),
    dryRun: query.dryRun === 'All' || (fromBody.dryRun ?? []).includes('All'),
  };
}

export function checkPreconditions(
  route: Route,
  current: KubeObject,
  options: DeleteOptionsJson,
): void {
  const name = route.name ?? '';
  const uid = options.preconditions?.uid;
  if (uid && uid !== current.metadata.uid) {
    throw conflict(
      route.resource,
      name,
      `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${current.metadata.uid}`,
    );
  }
  const rv = options.preconditions?.resourceVersion;
  if (rv && rv !== current.metadata.resourceVersion) {
    throw conflict(
      route.resource,
      name,
      `Precondition failed: ResourceVersion in precondition: ${rv}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
    );
  }
}

export function statusSuccess(route: Route, object: KubeObject): StatusJson {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    message: '',
    reason: '',
    details: {
      name: object.metadata.name ?? '',
      kind: route.resource,
      uid: object.metadata.uid ?? '',
    },
    code: 200,
  } as StatusJson;
}

/** The parts of a pod an update may change: metadata, or the status through /status. */
export function mergePod(current: PodJson, next: PodJson, subresource: string): PodJson {
  if (subresource === 'status') return { ...current, status: next.status ?? current.status };
  if (next.spec) checkPodSpecUpdate(current, next.spec);
  const spec = { ...current.spec };
  if (next.spec?.activeDeadlineSeconds !== undefined)
    spec.activeDeadlineSeconds = next.spec.activeDeadlineSeconds;
  return {
    ...current,
    metadata: {
      ...current.metadata,
      labels: next.metadata.labels,
      annotations: next.metadata.annotations,
      finalizers: next.metadata.finalizers,
    },
    spec,
  };
}

/** The spec without the fields ValidatePodUpdate lets an update change. */
export function immutablePart(spec: PodJson['spec']): string {
  const { activeDeadlineSeconds, tolerations, terminationGracePeriodSeconds, ...rest } = spec;
  void activeDeadlineSeconds;
  void tolerations;
  void terminationGracePeriodSeconds;
  const containers = (rest.containers ?? []).map((container) => ({ ...container, image: '' }));
  return JSON.stringify({ ...rest, containers });
}

/**
 * ValidatePodUpdate: a pod's spec is immutable but for images, activeDeadlineSeconds and added
 * tolerations. Known gaps: the real message ends with a diff of the two specs, left out here;
 * an accepted image change is stored but the simulated kubelet keeps the old instance running.
 */
export function checkPodSpecUpdate(current: PodJson, nextSpec: PodJson['spec']): void {
  if (immutablePart(current.spec) === immutablePart({ ...current.spec, ...nextSpec })) return;
  throw invalid('Pod', current.metadata.name ?? '', [
    {
      field: 'spec',
      reason: 'FieldValueForbidden',
      message:
        'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,' +
        '`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` ' +
        '(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` ' +
        '(allow it to be set to 1 if it was previously negative)',
    },
  ]);
}

export function applyPatch(current: KubeObject, patch: unknown, contentType: string): KubeObject {
  if (contentType.startsWith('application/json-patch+json')) return jsonPatch(current, patch);
  if (!patch || typeof patch !== 'object')
    throw badRequest(
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    );
  const merged = mergePatch(current, patch) as KubeObject;
  merged.metadata.resourceVersion = (patch as KubeObject).metadata?.resourceVersion ?? undefined;
  return merged;
}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** RFC 6902 add/replace/remove on object paths, enough for labels and annotations. */
export function jsonPatch(current: KubeObject, patch: unknown): KubeObject {
  if (!Array.isArray(patch))
    throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  const result = clone(current) as unknown as Record<string, unknown>;
  for (const operation of patch as Array<{ op: string; path: string; value?: unknown }>) {
    const keys = operation.path
      .split('/')
      .slice(1)
      .map((key) => key.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop() ?? '';
    let parent: Record<string, unknown> = result;
    for (const key of keys) {
      if (typeof parent[key] !== 'object' || parent[key] === null) {
        if (operation.op === 'remove')
          throw badRequest(`the server rejected our request due to an error in our request`);
        parent[key] = {};
      }
      parent = parent[key] as Record<string, unknown>;
    }
    if (operation.op === 'remove') delete parent[last];
    else if (operation.op === 'add' || operation.op === 'replace') parent[last] = operation.value;
    else throw badRequest(`Unexpected kind: ${operation.op}`);
  }
  const object = result as unknown as KubeObject;
  delete object.metadata.resourceVersion;
  return object;
}
