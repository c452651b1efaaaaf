// A minimal ONNX writer: a hand-written subset of onnx.proto (field numbers as in onnx/onnx.proto3),
// encoded with protobufjs. Enough to write the graphs this project builds (the trained bag-of-n-grams
// reward model and the benchmark transformer): initializers as raw little-endian data, no subgraphs.
// Why a subset and not the official onnx.proto3: no maintained npm package ships that file (onnx-proto was
// last published in 2021 and pins protobufjs 6), and copying it into this repository is not ours to do.
// What keeps the field numbers honest: every model written here is loaded and run by onnxruntime in the
// tests (test/judges/train.test.ts, test/judges/transformer.test.ts).
import protobuf from 'protobufjs';

const ONNX_SUBSET = `
syntax = "proto3";
package onnx;
message AttributeProto {
  enum AttributeType { UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; FLOATS = 6; INTS = 7; STRINGS = 8; }
  string name = 1;
  float f = 2;
  int64 i = 3;
  bytes s = 4;
  TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  AttributeType type = 20;
}
message ValueInfoProto { string name = 1; TypeProto type = 2; string doc_string = 3; }
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  repeated AttributeProto attribute = 5;
  string doc_string = 6;
  string domain = 7;
}
message StringStringEntryProto { string key = 1; string value = 2; }
message ModelProto {
  int64 ir_version = 1;
  string producer_name = 2;
  string producer_version = 3;
  string domain = 4;
  int64 model_version = 5;
  string doc_string = 6;
  GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
  repeated StringStringEntryProto metadata_props = 14;
}
message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}
message TensorProto {
  repeated int64 dims = 1;
  int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int64 int64_data = 7 [packed = true];
  string name = 8;
  bytes raw_data = 9;
  string doc_string = 12;
}
message TensorShapeProto {
  message Dimension { oneof value { int64 dim_value = 1; string dim_param = 2; } string denotation = 3; }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; }
  oneof value { Tensor tensor_type = 1; }
  string denotation = 6;
}
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
`;

let root: protobuf.Root | undefined;
function types() {
  root ??= protobuf.parse(ONNX_SUBSET, { keepCase: true }).root;
  return { Model: root.lookupType('onnx.ModelProto') };
}

/** TensorProto.DataType values used here. */
export const DType = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9 } as const;
export type DTypeValue = (typeof DType)[keyof typeof DType];

const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

export type AttrValue = number | string | number[] | { floats: number[] } | TensorSpec;
export interface TensorSpec {
  name: string;
  dims: number[];
  dtype: DTypeValue;
  data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
}

/** A tensor from typed data, stored as raw little-endian bytes (the host byte order on every platform we ship to). */
export function tensor(
  name: string,
  dims: number[],
  data: Float32Array | BigInt64Array | Int32Array | number[],
  dtype?: DTypeValue,
): TensorSpec {
  if (Array.isArray(data)) {
    if (dtype === DType.INT64) return { name, dims, dtype, data: BigInt64Array.from(data.map((v) => BigInt(v))) };
    if (dtype === DType.INT32) return { name, dims, dtype, data: Int32Array.from(data) };
    return { name, dims, dtype: DType.FLOAT, data: Float32Array.from(data) };
  }
  const dt =
    dtype ?? (data instanceof Float32Array ? DType.FLOAT : data instanceof BigInt64Array ? DType.INT64 : DType.INT32);
  const expected = dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) throw new Error(`tensor ${name}: ${data.length} values for dims [${dims}]`);
  return { name, dims, dtype: dt, data };
}

function tensorMessage(t: TensorSpec) {
  const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return { name: t.name, dims: t.dims, data_type: t.dtype, raw_data: bytes };
}

function attribute(name: string, v: AttrValue) {
  if (typeof v === 'number')
    return Number.isInteger(v) ? { name, type: AttrType.INT, i: v } : { name, type: AttrType.FLOAT, f: v };
  if (typeof v === 'string') return { name, type: AttrType.STRING, s: Buffer.from(v, 'utf8') };
  if (Array.isArray(v)) return { name, type: AttrType.INTS, ints: v };
  if ('floats' in v) return { name, type: AttrType.FLOATS, floats: v.floats };
  return { name, type: AttrType.TENSOR, t: tensorMessage(v) };
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrValue>;
  name?: string;
  domain?: string;
}
export interface ValueSpec {
  name: string;
  dtype: DTypeValue;
  shape: (number | string)[];
}

function valueInfo(v: ValueSpec) {
  return {
    name: v.name,
    type: {
      tensor_type: {
        elem_type: v.dtype,
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

/**
 * A small graph builder: `op()` adds a node and returns its (auto-named) output, `init()` adds an
 * initializer, `encode()` serialises the whole model.
 */
export class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: TensorSpec[] = [];
  private counter = 0;
  constructor(readonly name: string) {}

  init(t: TensorSpec): string {
    this.initializers.push(t);
    return t.name;
  }
  /** A constant int64 vector initializer (shapes, axes, slice bounds). */
  ints(values: number[], hint = 'const'): string {
    return this.init(tensor(`${hint}_${this.counter++}`, [values.length], values, DType.INT64));
  }
  /** A float scalar initializer. */
  scalar(value: number, hint = 'scalar'): string {
    return this.init(tensor(`${hint}_${this.counter++}`, [], new Float32Array([value])));
  }
  op(op: string, inputs: string[], attrs?: Record<string, AttrValue>, output?: string): string {
    const out = output ?? `${op.toLowerCase()}_${this.counter++}`;
    this.nodes.push({ op, inputs, outputs: [out], attrs, name: `${op}_${this.counter++}` });
    return out;
  }

  encode(
    inputs: ValueSpec[],
    outputs: ValueSpec[],
    options: { opset?: number; doc?: string; metadata?: Record<string, string> } = {},
  ): Uint8Array {
    const { Model } = types();
    const message = {
      ir_version: 8,
      producer_name: 'discretion-workbench',
      producer_version: '0.1.0',
      doc_string: options.doc ?? '',
      model_version: 1,
      opset_import: [{ domain: '', version: options.opset ?? 17 }],
      metadata_props: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.name,
        node: this.nodes.map((n) => ({
          input: n.inputs,
          output: n.outputs,
          name: n.name ?? '',
          op_type: n.op,
          domain: n.domain ?? '',
          attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
        })),
        initializer: this.initializers.map(tensorMessage),
        input: inputs.map(valueInfo),
        output: outputs.map(valueInfo),
      },
    };
    const err = Model.verify(message);
    if (err) throw new Error(`invalid ONNX model message: ${err}`);
    return Model.encode(Model.fromObject(message)).finish();
  }
}
