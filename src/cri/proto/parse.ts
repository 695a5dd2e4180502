/**
 * Turns the CRI `api.proto` text into the JSON descriptor that @grpc/proto-loader's `fromJSON` loads. Used by the
 * generator (generate.ts) and by the test that keeps descriptor.ts in step with api.proto; the running agent only
 * loads the generated descriptor, so it never parses .proto files and needs no file next to the bundle.
 */
import protobuf from 'protobufjs';

/** JSON descriptor of `text` (field names camelCased; the gogoproto import and its file options are dropped). */
export function descriptorFromProto(text: string): Record<string, unknown> {
  // parse() resolves nothing it imports: the only import (gogo.proto) carries Go code generation options only.
  const parsed = protobuf.parse(text, { keepCase: false });
  parsed.root.resolveAll();
  const json = parsed.root.toJSON() as { nested?: Record<string, unknown> };
  return { nested: json.nested ?? {} };
}
