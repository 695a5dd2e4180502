import { createHash } from 'node:crypto';
import type { Image } from '../types.js';
import { normalizeImageRef } from '../refs.js';

/** An image the fake knows, with the config parts the fake models. */
export interface FakeImageSpec {
  /** Reference, e.g. `localhost/nodelet/testbox:1.0` (`:latest` added when no tag). */
  ref: string;
  /** Image ID; default: a sha256 of the reference. */
  id?: string;
  entrypoint?: string[];
  cmd?: string[];
  /** Configured user ('' = root). */
  user?: string;
  stopSignal?: string;
  size?: number;
}

/** A stored image (an Image plus the modelled config). */
export interface FakeImage extends Image {
  entrypoint: string[];
  cmd: string[];
}

function toImage(spec: FakeImageSpec): FakeImage {
  const ref = normalizeImageRef(spec.ref);
  return {
    id: spec.id ?? `sha256:${createHash('sha256').update(ref).digest('hex')}`,
    repoTags: [ref],
    repoDigests: [],
    size: spec.size ?? 1024 * 1024,
    user: spec.user ?? '',
    stopSignal: spec.stopSignal ?? '',
    entrypoint: spec.entrypoint ?? [],
    cmd: spec.cmd ?? [],
  };
}

/** Local images plus a "remote registry" of images that can be pulled. */
export class FakeImageStore {
  readonly #local = new Map<string, FakeImage>();
  readonly #remote = new Map<string, FakeImage>();

  /** Makes an image present locally. Returns its ID. */
  addLocal(spec: FakeImageSpec): string {
    const img = toImage(spec);
    this.#put(this.#local, img);
    return img.id;
  }

  /** Makes an image pullable (present in the fake registry). */
  addRemote(spec: FakeImageSpec): void {
    this.#put(this.#remote, toImage(spec));
  }

  /** Finds a local image by reference or ID (full `sha256:…` or a prefix of the hex). */
  find(refOrId: string): FakeImage | undefined {
    const byRef = this.#local.get(normalizeImageRef(refOrId));
    if (byRef !== undefined) return byRef;
    const hex = refOrId.replace(/^sha256:/, '');
    if (!/^[0-9a-f]{12,64}$/.test(hex)) return undefined;
    return [...this.#local.values()].find((i) => i.id.replace(/^sha256:/, '').startsWith(hex));
  }

  /** Copies a remote image to local; undefined when the registry does not have it. */
  pull(ref: string): FakeImage | undefined {
    const img = this.#remote.get(normalizeImageRef(ref));
    if (img === undefined) return undefined;
    this.#put(this.#local, img);
    return img;
  }

  /** Removes a local image by reference or ID; true when something was removed. */
  remove(refOrId: string): boolean {
    const img = this.find(refOrId);
    if (img === undefined) return false;
    for (const [k, v] of this.#local) if (v.id === img.id) this.#local.delete(k);
    return true;
  }

  /** Distinct local images (one entry per ID, with all its tags). */
  list(): FakeImage[] {
    const byId = new Map<string, FakeImage>();
    for (const [ref, img] of this.#local) {
      const seen = byId.get(img.id);
      if (seen === undefined) byId.set(img.id, { ...img, repoTags: [ref] });
      else if (!seen.repoTags.includes(ref)) seen.repoTags.push(ref);
    }
    return [...byId.values()];
  }

  #put(map: Map<string, FakeImage>, img: FakeImage): void {
    for (const t of img.repoTags) map.set(t, img);
  }
}
