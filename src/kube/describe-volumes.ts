/**
 * The Volumes section of `kubectl describe pod` (kubectl v1.30 wording) for the volume kinds a
 * drill pod or a typical workload uses.
 */
import { canonicalQuantity, quantityValue } from './describe-format.js';
import type { PrefixWriter } from './describe-tabwriter.js';
import type { VolumeLike } from './describe-types.js';
import { byteOrder } from './describe-containers.js';

/** kubectl cuts CSI volume attributes (and annotations) longer than this many bytes. */
const MAX_ATTRIBUTE_LENGTH = 140;

/** Go's %v of a *bool: kubectl v1.30 prints the pointer, which is "<nil>" when unset. */
function optionalPointer(value: boolean | undefined): string {
  // Shortcoming: when the field is set, real kubectl prints a memory address (0xc000...),
  // which no one can reproduce; we print the boolean instead, so such lines differ.
  return value === undefined ? '<nil>' : String(value);
}

function writeFields(w: PrefixWriter, typeText: string, fields: [string, string][]): void {
  const rest = fields.map(([key, value]) => `    ${key}\t${value}\n`).join('');
  w.write(2, `Type:\t${typeText}\n${rest}`);
}

function writeEmptyDir(w: PrefixWriter, emptyDir: NonNullable<VolumeLike['emptyDir']>): void {
  const size = emptyDir.sizeLimit;
  const sizeText =
    size !== undefined && (quantityValue(size) ?? 0) > 0 ? canonicalQuantity(size) : '<unset>';
  writeFields(w, "EmptyDir (a temporary directory that shares a pod's lifetime)", [
    ['Medium:', emptyDir.medium ?? ''],
    ['SizeLimit:', sizeText],
  ]);
}

function writeProjected(w: PrefixWriter, projected: NonNullable<VolumeLike['projected']>): void {
  w.write(2, 'Type:\tProjected (a volume that contains injected data from multiple sources)\n');
  for (const source of projected.sources ?? []) {
    if (source.secret) {
      const optional = optionalPointer(source.secret.optional);
      w.write(
        2,
        `SecretName:\t${source.secret.name ?? ''}\n    SecretOptionalName:\t${optional}\n`,
      );
    } else if (source.downwardAPI) {
      w.write(2, 'DownwardAPI:\ttrue\n');
    } else if (source.configMap) {
      const optional = optionalPointer(source.configMap.optional);
      w.write(
        2,
        `ConfigMapName:\t${source.configMap.name ?? ''}\n    ConfigMapOptional:\t${optional}\n`,
      );
    } else if (source.serviceAccountToken) {
      w.write(2, `TokenExpirationSeconds:\t${source.serviceAccountToken.expirationSeconds ?? 0}\n`);
    }
  }
}

function writeDownwardApi(w: PrefixWriter, downward: NonNullable<VolumeLike['downwardAPI']>): void {
  w.write(2, 'Type:\tDownwardAPI (a volume populated by information about the pod)\n    Items:\n');
  for (const item of downward.items ?? []) {
    if (item.fieldRef) w.write(3, `${item.fieldRef.fieldPath ?? ''} -> ${item.path ?? ''}\n`);
    if (item.resourceFieldRef)
      w.write(3, `${item.resourceFieldRef.resource ?? ''} -> ${item.path ?? ''}\n`);
  }
}

function writeCsi(w: PrefixWriter, csi: NonNullable<VolumeLike['csi']>): void {
  writeFields(w, 'CSI (a Container Storage Interface (CSI) volume source)', [
    ['Driver:', csi.driver ?? ''],
    ['FSType:', csi.fsType ?? ''],
    ['ReadOnly:', String(csi.readOnly === true)],
  ]);
  const attributes = csi.volumeAttributes ?? {};
  const keys = Object.keys(attributes).sort(byteOrder);
  w.write(2, 'VolumeAttributes:\t');
  if (keys.length === 0) {
    w.write(0, '<none>\n');
    return;
  }
  keys.forEach((key, i) => {
    if (i > 0) w.write(2, '\t');
    const line = `${key}=${attributes[key]}`;
    const cut = Buffer.from(line).length > MAX_ATTRIBUTE_LENGTH;
    w.write(
      2,
      cut ? `${Buffer.from(line).subarray(0, MAX_ATTRIBUTE_LENGTH).toString()}...\n` : `${line}\n`,
    );
  });
}

/** Writes one volume's fields (the lines under its name). */
function writeVolumeSource(w: PrefixWriter, v: VolumeLike): void {
  if (v.hostPath) {
    writeFields(w, 'HostPath (bare host directory volume)', [
      ['Path:', v.hostPath.path ?? ''],
      ['HostPathType:', v.hostPath.type ? v.hostPath.type : '<none>'],
    ]);
  } else if (v.emptyDir) {
    writeEmptyDir(w, v.emptyDir);
  } else if (v.secret) {
    writeFields(w, 'Secret (a volume populated by a Secret)', [
      ['SecretName:', v.secret.secretName ?? ''],
      ['Optional:', String(v.secret.optional === true)],
    ]);
  } else if (v.configMap) {
    writeFields(w, 'ConfigMap (a volume populated by a ConfigMap)', [
      ['Name:', v.configMap.name ?? ''],
      ['Optional:', String(v.configMap.optional === true)],
    ]);
  } else if (v.nfs) {
    writeFields(w, 'NFS (an NFS mount that lasts the lifetime of a pod)', [
      ['Server:', v.nfs.server ?? ''],
      ['Path:', v.nfs.path ?? ''],
      ['ReadOnly:', String(v.nfs.readOnly === true)],
    ]);
  } else if (v.persistentVolumeClaim) {
    writeFields(
      w,
      'PersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)',
      [
        ['ClaimName:', v.persistentVolumeClaim.claimName ?? ''],
        ['ReadOnly:', String(v.persistentVolumeClaim.readOnly === true)],
      ],
    );
  } else if (v.downwardAPI) {
    writeDownwardApi(w, v.downwardAPI);
  } else if (v.projected) {
    writeProjected(w, v.projected);
  } else if (v.csi) {
    writeCsi(w, v.csi);
  } else {
    // Shortcoming: cloud-disk, iSCSI, RBD, ephemeral and other rare kinds print kubectl's
    // "<unknown>" here instead of their fields; drill pods never use them.
    w.write(1, '<unknown>\n');
  }
}

/** The Volumes section: `Volumes:\t<none>` or one block per volume. */
export function writeVolumes(w: PrefixWriter, volumes: readonly VolumeLike[]): void {
  if (volumes.length === 0) {
    w.write(0, 'Volumes:\t<none>\n');
    return;
  }

  w.write(0, 'Volumes:\n');
  for (const volume of volumes) {
    w.write(1, `${volume.name ?? ''}:\n`);
    writeVolumeSource(w, volume);
  }
}
