/**
 * The CRI v1 gRPC service definitions for @grpc/grpc-js, loaded from the generated descriptor. Tests only: the fake
 * CRI servers and the reference codec.test.ts checks codec.ts against (the agent itself uses codec.ts and src/grpc).
 * Messages use camelCase names; int64/uint64 arrive as decimal strings, enums as their names, bytes as Buffers,
 * maps as plain objects, and unset fields as their defaults.
 */
import { loadPackageDefinition, type ServiceClientConstructor } from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import { CRI_V1_DESCRIPTOR } from './descriptor.js';

/** The two CRI services as grpc-js client constructors. */
export interface CriServices {
  RuntimeService: ServiceClientConstructor;
  ImageService: ServiceClientConstructor;
}

let cached: CriServices | undefined;

/** Loads (once) the CRI runtime.v1 service definitions. */
export function loadCriServices(): CriServices {
  if (cached !== undefined) return cached;
  const def = fromJSON(CRI_V1_DESCRIPTOR as Parameters<typeof fromJSON>[0], { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = loadPackageDefinition(def) as unknown as { runtime: { v1: CriServices } };
  cached = { RuntimeService: pkg.runtime.v1.RuntimeService, ImageService: pkg.runtime.v1.ImageService };
  return cached;
}
