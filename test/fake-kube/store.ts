/**
 * The fake's etcd: objects by resource, one global revision (the resourceVersion of every write,
 * as etcd's revision is), a bounded history of changes for watches to resume from, and the set
 * of open watches that are told about every change as it happens.
 */
import type { KubeObject } from './types.js';
import { clone } from './util.js';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  rv: number;
  type: ChangeType;
  resource: string;
  object: KubeObject;
  /** The object before this change (MODIFIED, DELETED), for watches filtered by selectors. */
  previous?: KubeObject;
}

export interface ChangeListener {
  resource: string;
  onChange(change: Change): void;
}

function keyOf(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

export class Store {
  private revision = 1;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private history: Change[] = [];
  /** Changes at or below this revision are gone; a watch resuming from before it gets 410. */
  private compactedRv = 1;
  private readonly listeners = new Set<ChangeListener>();

  constructor(private readonly historySize: number) {}

  get currentRv(): number {
    return this.revision;
  }

  get oldestResumableRv(): number {
    return this.compactedRv;
  }

  get<T extends KubeObject>(
    resource: string,
    namespace: string | undefined,
    name: string,
  ): T | undefined {
    const found = this.collection(resource).get(keyOf(namespace, name));
    return found ? (clone(found) as T) : undefined;
  }

  /** Objects of a resource, in one namespace or all, sorted by namespace then name like etcd keys. */
  list<T extends KubeObject>(resource: string, namespace?: string): T[] {
    const items = [...this.collection(resource).entries()]
      .filter(([, object]) => namespace === undefined || object.metadata.namespace === namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, object]) => clone(object) as T);
    return items;
  }

  /**
   * The stored objects themselves, for serialising a response without copying them.
   * Callers must not mutate what they get.
   */
  peekList(resource: string, namespace?: string): readonly KubeObject[] {
    return [...this.collection(resource).entries()]
      .filter(([, object]) => namespace === undefined || object.metadata.namespace === namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, object]) => object);
  }

  create<T extends KubeObject>(resource: string, object: T): T {
    return this.write(resource, object, 'ADDED');
  }

  update<T extends KubeObject>(resource: string, object: T): T {
    return this.write(resource, object, 'MODIFIED');
  }

  /** Removes an object; the DELETED change carries it with the deletion's resourceVersion. */
  remove<T extends KubeObject>(
    resource: string,
    namespace: string | undefined,
    name: string,
  ): T | undefined {
    const collection = this.collection(resource);
    const key = keyOf(namespace, name);
    const previous = collection.get(key);
    if (!previous) return undefined;

    collection.delete(key);
    const object = clone(previous);
    this.revision += 1;
    object.metadata.resourceVersion = String(this.revision);
    this.record({ rv: this.revision, type: 'DELETED', resource, object, previous });
    return clone(object) as T;
  }

  /** Changes after `rv` for a resource, or undefined when they are no longer retained. */
  changesSince(resource: string, rv: number): Change[] | undefined {
    if (rv < this.compactedRv) return undefined;
    return this.history.filter((change) => change.rv > rv && change.resource === resource);
  }

  /** Forgets all history, as an etcd compaction does: every older resume now gets 410. */
  compact(): void {
    this.history = [];
    this.compactedRv = this.revision;
  }

  listen(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private write<T extends KubeObject>(resource: string, object: T, type: ChangeType): T {
    const collection = this.collection(resource);
    const key = keyOf(object.metadata.namespace, object.metadata.name ?? '');
    const previous = collection.get(key);

    this.revision += 1;
    const stored = clone(object);
    stored.metadata.resourceVersion = String(this.revision);
    collection.set(key, stored);
    this.record({
      rv: this.revision,
      type,
      resource,
      object: clone(stored),
      ...(previous ? { previous } : {}),
    });
    return clone(stored);
  }

  private record(change: Change): void {
    this.history.push(change);
    if (this.history.length > this.historySize) {
      const dropped = this.history.shift();
      if (dropped) this.compactedRv = dropped.rv;
    }

    for (const listener of [...this.listeners]) {
      if (listener.resource === change.resource) listener.onChange(change);
    }
  }

  private collection(resource: string): Map<string, KubeObject> {
    let collection = this.objects.get(resource);
    if (!collection) {
      collection = new Map();
      this.objects.set(resource, collection);
    }
    return collection;
  }
}
