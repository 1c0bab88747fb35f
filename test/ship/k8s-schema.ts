/**
 * Checks rendered manifests against the Kubernetes API schema, offline.
 *
 * @kubernetes/client-node's model classes are generated from the API server's OpenAPI document
 * (v1.34): each class lists its fields in a static `attributeTypeMap` (JSON name and type), and
 * its .d.ts marks required fields by leaving out the `?`. Walking a rendered object against those
 * two catches what `kubectl apply --dry-run=server` would: unknown fields (a typo or a wrong
 * indent), wrong primitive types, missing required fields, and a kind under the wrong apiVersion.
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';

interface Attribute {
  name: string;
  baseName: string;
  type: string;
  format: string;
}

interface ModelClass {
  attributeTypeMap: Attribute[];
}

const modelsDir = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../node_modules/@kubernetes/client-node/dist/gen/models',
);

/** The kinds the chart may render, each under the only apiVersion the API serves it at. */
const KINDS: Record<string, { apiVersion: string; model: string }> = {
  ConfigMap: { apiVersion: 'v1', model: 'V1ConfigMap' },
  Secret: { apiVersion: 'v1', model: 'V1Secret' },
  Service: { apiVersion: 'v1', model: 'V1Service' },
  ServiceAccount: { apiVersion: 'v1', model: 'V1ServiceAccount' },
  Namespace: { apiVersion: 'v1', model: 'V1Namespace' },
  Pod: { apiVersion: 'v1', model: 'V1Pod' },
  PersistentVolumeClaim: { apiVersion: 'v1', model: 'V1PersistentVolumeClaim' },
  Deployment: { apiVersion: 'apps/v1', model: 'V1Deployment' },
  StatefulSet: { apiVersion: 'apps/v1', model: 'V1StatefulSet' },
  Role: { apiVersion: 'rbac.authorization.k8s.io/v1', model: 'V1Role' },
  RoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', model: 'V1RoleBinding' },
  ClusterRole: { apiVersion: 'rbac.authorization.k8s.io/v1', model: 'V1ClusterRole' },
  ClusterRoleBinding: {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    model: 'V1ClusterRoleBinding',
  },
  Ingress: { apiVersion: 'networking.k8s.io/v1', model: 'V1Ingress' },
  NetworkPolicy: { apiVersion: 'networking.k8s.io/v1', model: 'V1NetworkPolicy' },
  PodDisruptionBudget: { apiVersion: 'policy/v1', model: 'V1PodDisruptionBudget' },
};

/**
 * Fields typed `string` in the models that hold a resource.Quantity, which the API server
 * also accepts as a JSON number (`cpu: 1`).
 */
const QUANTITY_FIELDS = new Set([
  'V1ResourceRequirements.limits',
  'V1ResourceRequirements.requests',
  'V1VolumeResourceRequirements.limits',
  'V1VolumeResourceRequirements.requests',
  'V1EmptyDirVolumeSource.sizeLimit',
]);

const requiredCache = new Map<string, string[]>();

/** The fields a model's .d.ts declares without `?`. */
function requiredFields(model: string): string[] {
  const cached = requiredCache.get(model);
  if (cached !== undefined) return cached;

  const path = join(modelsDir, `${model}.d.ts`);
  const source = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const fields = [...source.matchAll(/^\s+'([A-Za-z0-9_$-]+)': /gm)].map((match) => match[1]!);
  requiredCache.set(model, fields);
  return fields;
}

function modelClass(model: string): ModelClass | undefined {
  const candidate = (k8s as unknown as Record<string, Partial<ModelClass> | undefined>)[model];
  return Array.isArray(candidate?.attributeTypeMap) ? (candidate as ModelClass) : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface Walk {
  problems: string[];
}

function checkPrimitive(walk: Walk, path: string, value: unknown, attr: Attribute): void {
  const actual = Array.isArray(value) ? 'array' : typeof value;
  const fail = (wanted: string): void => {
    walk.problems.push(`${path}: expected ${wanted}, got ${actual}`);
  };

  switch (attr.type) {
    case 'string':
      if (typeof value !== 'string') fail('string');
      return;
    case 'boolean':
      if (typeof value !== 'boolean') fail('boolean');
      return;
    case 'number':
      if (typeof value !== 'number') fail('number');
      else if (attr.format.startsWith('int') && !Number.isInteger(value)) fail('integer');
      return;
    case 'IntOrString':
      if (typeof value !== 'string' && !Number.isInteger(value)) fail('integer or string');
      return;
    case 'Date':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) fail('RFC 3339 time');
      return;
    case 'any':
      return;
  }
  throw new Error(`k8s-schema: no rule for primitive type ${attr.type} at ${path}`);
}

const PRIMITIVES = new Set(['string', 'boolean', 'number', 'IntOrString', 'Date', 'any']);

/** Checks `value` against the type expression `type` (a model, Array<T>, a map or a primitive). */
function checkType(walk: Walk, path: string, value: unknown, attr: Attribute): void {
  if (value === null) {
    walk.problems.push(`${path}: null (an empty template value?)`);
    return;
  }
  const { type } = attr;
  const array = /^Array<(.+)>$/.exec(type);
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);

  if (array) {
    if (!Array.isArray(value)) {
      walk.problems.push(`${path}: expected a list, got ${typeof value}`);
      return;
    }
    value.forEach((item, index) =>
      checkType(walk, `${path}[${index}]`, item, { ...attr, type: array[1]! }),
    );
  } else if (map) {
    if (!isPlainObject(value)) {
      walk.problems.push(
        `${path}: expected a map, got ${Array.isArray(value) ? 'a list' : typeof value}`,
      );
      return;
    }
    for (const [key, item] of Object.entries(value)) {
      checkType(walk, `${path}.${key}`, item, { ...attr, type: map[1]! });
    }
  } else if (PRIMITIVES.has(type)) {
    checkPrimitive(walk, path, value, attr);
  } else {
    checkModel(walk, path, value, type);
  }
}

function checkModel(walk: Walk, path: string, value: unknown, model: string): void {
  const cls = modelClass(model);
  if (cls === undefined) throw new Error(`k8s-schema: no model class ${model} (at ${path})`);
  if (!isPlainObject(value)) {
    walk.problems.push(`${path}: expected an object (${model}), got ${typeof value}`);
    return;
  }

  const byName = new Map(cls.attributeTypeMap.map((attr) => [attr.baseName, attr]));
  for (const [key, item] of Object.entries(value)) {
    const attr = byName.get(key);
    if (attr === undefined) {
      walk.problems.push(`${path}.${key}: unknown field in ${model}`);
      continue;
    }
    const quantity = QUANTITY_FIELDS.has(`${model}.${key}`);
    checkType(walk, `${path}.${key}`, item, quantity ? quantityAttr(attr) : attr);
  }

  for (const field of requiredFields(model)) {
    if (value[field] === undefined) walk.problems.push(`${path}.${field}: required by ${model}`);
  }
}

/** A Quantity field or map of them: string or number. */
function quantityAttr(attr: Attribute): Attribute {
  const type =
    attr.type === 'string' ? 'IntOrString' : attr.type.replace(/: string; \}$/, ': IntOrString; }');
  return { ...attr, type };
}

/**
 * Problems with one rendered object, as `path: problem` lines; empty when it would be accepted.
 * Kinds outside the chart's set are reported, so a new template cannot slip by unchecked.
 */
export function validateObject(object: unknown): string[] {
  if (!isPlainObject(object)) return ['(root): not an object'];
  const kind = String(object.kind);
  const name = isPlainObject(object.metadata) ? String(object.metadata.name) : '?';
  const where = `${kind}/${name}`;
  const known = KINDS[kind];
  if (known === undefined) return [`${where}: kind ${kind} has no schema here`];
  if (object.apiVersion !== known.apiVersion) {
    return [
      `${where}: apiVersion ${String(object.apiVersion)}, the API serves ${kind} at ${known.apiVersion}`,
    ];
  }

  const walk: Walk = { problems: [] };
  checkModel(walk, where, object, known.model);
  if (!isPlainObject(object.metadata) || typeof object.metadata.name !== 'string') {
    walk.problems.push(`${where}.metadata.name: required`);
  }
  return walk.problems;
}

/** The kinds validateObject knows. */
export function knownKinds(): string[] {
  return Object.keys(KINDS);
}
