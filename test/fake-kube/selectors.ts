/**
 * labelSelector and fieldSelector as the apiserver parses them, with the field labels each
 * resource really supports (an unsupported one is a 400, as on a cluster).
 */
import { badRequest } from './status.js';
import type { KubeObject } from './types.js';

export type Matcher = (object: KubeObject) => boolean;

type FieldGetter = (object: KubeObject) => string;

function path(...keys: string[]): FieldGetter {
  return (object) => {
    let value: unknown = object;
    for (const key of keys) {
      if (value === null || typeof value !== 'object') return '';
      value = (value as Record<string, unknown>)[key];
    }
    return value === undefined || value === null ? '' : String(value);
  };
}

const META_FIELDS: Record<string, FieldGetter> = {
  'metadata.name': path('metadata', 'name'),
  'metadata.namespace': path('metadata', 'namespace'),
};

/** The field labels registered per resource (pkg/registry/core/<resource>/strategy.go). */
const FIELDS: Record<string, Record<string, FieldGetter>> = {
  pods: {
    ...META_FIELDS,
    'spec.nodeName': path('spec', 'nodeName'),
    'spec.restartPolicy': path('spec', 'restartPolicy'),
    'spec.schedulerName': path('spec', 'schedulerName'),
    'spec.serviceAccountName': path('spec', 'serviceAccountName'),
    'spec.hostNetwork': (object) => path('spec', 'hostNetwork')(object) || 'false',
    'status.phase': path('status', 'phase'),
    'status.podIP': path('status', 'podIP'),
    'status.nominatedNodeName': path('status', 'nominatedNodeName'),
  },
  events: {
    ...META_FIELDS,
    'involvedObject.kind': path('involvedObject', 'kind'),
    'involvedObject.namespace': path('involvedObject', 'namespace'),
    'involvedObject.name': path('involvedObject', 'name'),
    'involvedObject.uid': path('involvedObject', 'uid'),
    'involvedObject.apiVersion': path('involvedObject', 'apiVersion'),
    'involvedObject.resourceVersion': path('involvedObject', 'resourceVersion'),
    'involvedObject.fieldPath': path('involvedObject', 'fieldPath'),
    reason: path('reason'),
    reportingComponent: path('reportingComponent'),
    source: path('source', 'component'),
    type: path('type'),
  },
  namespaces: { ...META_FIELDS, 'status.phase': path('status', 'phase') },
  nodes: {
    ...META_FIELDS,
    'spec.unschedulable': (object) => path('spec', 'unschedulable')(object) || 'false',
  },
};

/** Parses `a=b,c!=d` (also `==`) for a resource; unknown fields are the apiserver's 400. */
export function parseFieldSelector(resource: string, text: string | undefined): Matcher {
  if (!text) return () => true;

  const fields = FIELDS[resource] ?? META_FIELDS;
  const tests = text.split(',').map((term) => {
    const match = /^([^!=]+)(==|=|!=)(.*)$/.exec(term.trim());
    if (!match) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);

    const [, field = '', operator, value = ''] = match;
    const getter = fields[field];
    if (!getter) throw badRequest(`field label not supported: ${field}`);

    return operator === '!='
      ? (o: KubeObject) => getter(o) !== value
      : (o: KubeObject) => getter(o) === value;
  });
  return (object) => tests.every((test) => test(object));
}

type LabelTest = (labels: Record<string, string>) => boolean;

/** Parses a label selector: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a)`, `k`, `!k`. */
export function parseLabelSelector(text: string | undefined): Matcher {
  if (!text) return () => true;

  const tests = splitTerms(text).map((term) => parseLabelTerm(term, text));
  return (object) => {
    const labels = object.metadata.labels ?? {};
    return tests.every((test) => test(labels));
  };
}

/** Splits on commas outside parentheses. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (char === ',' && depth === 0) {
      terms.push(current.trim());
      current = '';
      continue;
    }
    current += char;
  }
  terms.push(current.trim());
  return terms.filter((term) => term !== '');
}

function parseLabelTerm(term: string, whole: string): LabelTest {
  const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
  if (set) {
    const [, key = '', operator, list = ''] = set;
    const values = list.split(',').map((value) => value.trim());
    return operator === 'in'
      ? (labels) => key in labels && values.includes(labels[key] ?? '')
      : (labels) => !(key in labels) || !values.includes(labels[key] ?? '');
  }

  const comparison = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
  if (comparison) {
    const [, key = '', operator, value = ''] = comparison;
    return operator === '!='
      ? (labels) => labels[key] !== value
      : (labels) => labels[key] === value;
  }

  if (/^![^!=\s]+$/.test(term)) return (labels) => !(term.slice(1) in labels);
  if (/^[^!=\s()]+$/.test(term)) return (labels) => term in labels;
  throw badRequest(`unable to parse requirement: found '${term}' in label selector '${whole}'`);
}
