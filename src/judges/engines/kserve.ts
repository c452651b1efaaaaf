// Triton Inference Server / KServe v2 (the Open Inference Protocol) with the ONNX Runtime backend: the model's
// tensors, tokenized here.
// https://kserve.github.io/website/docs/concepts/architecture/data-plane/v2-protocol/ (model metadata, inference)
// https://docs.nvidia.com/deeplearning/triton-inference-server/user-guide/docs/protocol/extension_binary_data.html
// https://github.com/triton-inference-server/onnxruntime_backend
// - GET /v2/models/{m}: the input and output names, datatypes and shapes. Inputs filled here: input_ids and
//   attention_mask (INT64, [batch, length]) and, when the model has it, token_type_ids (zeros). The score is the
//   output named "logits" (or the only output), one value per row.
// - POST /v2/models/{m}/infer: each request padded to one length (right, with the tokenizer's pad id; the dynamic
//   batcher merges only requests of equal shapes). With the binary tensor extension (the default): the JSON header
//   first, its length in the Inference-Header-Content-Length header, each input's raw little-endian bytes after it
//   in order (parameters.binary_data_size), and the output asked back as raw bytes (parameters.binary_data: true).
//   The JSON form (numbers in "data") is kept for comparison (bench/engines.ts).
import { endianness } from 'node:os';
import { UsageError } from '../../core/errors';
import type { HttpAnswer } from './http';
import { type EngineClient, type EngineContext, type Scored, answerJson, joinUrl, refused, shapeError } from './shared';

interface TensorMeta {
  name: string;
  datatype: string;
  shape?: number[];
}

interface ModelIo {
  inputs: string[];
  output: TensorMeta;
}

const LITTLE_ENDIAN = endianness() === 'LE';
const FILLED = new Set(['input_ids', 'attention_mask', 'token_type_ids']);
const BYTES: Record<string, number> = { FP16: 2, FP32: 4, FP64: 8 };

export function kserveEngine(c: EngineContext, o: { binary?: boolean } = {}): EngineClient {
  const encoder = c.encoder;
  if (!encoder)
    throw new UsageError(
      "Triton / KServe takes token ids: they are made here, from the model's tokenizer folder (tokenizer.json and tokenizer_config.json with a chat_template)",
      'tokenizer',
    );
  const binary = o.binary ?? true;
  const model = encodeURIComponent(c.model);
  const io = new Map<string, ModelIo>();

  async function metadata(base: string, signal: AbortSignal): Promise<ModelIo> {
    const known = io.get(base);
    if (known) return known;
    const url = joinUrl(base, `/v2/models/${model}`);
    const answer = await c.http.request(url, { signal });
    if (answer.status !== 200)
      throw refused(url, c.http, answer, `is the model "${c.model}" loaded in this Triton / KServe server?`);
    const meta = answerJson(url, answer) as { inputs?: unknown; outputs?: unknown };
    if (!Array.isArray(meta.inputs)) throw shapeError(url, 'inputs', 'a list of tensors', meta.inputs);
    if (!Array.isArray(meta.outputs)) throw shapeError(url, 'outputs', 'a list of tensors', meta.outputs);
    const inputs = meta.inputs as TensorMeta[];
    inputs.forEach((t, i) => {
      if (!FILLED.has(t?.name))
        throw shapeError(
          url,
          `inputs[${i}].name`,
          'input_ids, attention_mask or token_type_ids',
          t?.name,
          'this client fills only those',
        );
      if (t.datatype !== 'INT64') throw shapeError(url, `inputs[${i}].datatype`, '"INT64"', t.datatype);
    });
    if (!inputs.some((t) => t.name === 'input_ids')) throw shapeError(url, 'inputs', 'a list with input_ids', inputs);
    const outputs = meta.outputs as TensorMeta[];
    const output = outputs.find((t) => t?.name === 'logits') ?? (outputs.length === 1 ? outputs[0] : undefined);
    if (!output) throw shapeError(url, 'outputs', 'one output, or one named "logits"', outputs);
    if (!(output.datatype in BYTES)) throw shapeError(url, 'outputs[].datatype', 'FP16, FP32 or FP64', output.datatype);
    const found = { inputs: inputs.map((t) => t.name), output };
    io.set(base, found);
    return found;
  }

  return {
    name: 'kserve',
    endpoint: `/v2/models/${model}/infer`,
    activationHint:
      'the model ends in an activation (a softmax over one label is 1.0 for every input): export the logits',
    batchLimit: () => c.batchSize ?? 8,

    async ready(base, signal) {
      await metadata(base, signal);
    },

    async score(base, items, signal): Promise<Scored[]> {
      const { inputs, output } = await metadata(base, signal);
      const url = joinUrl(base, `/v2/models/${model}/infer`);
      const encoded = items.map((it) => encoder.encode(it.messages));
      const rows = encoded.length;
      const length = Math.max(1, ...encoded.map((e) => e.ids.length));
      const tensor = (name: string): number[] | Buffer => {
        const fill = (at: (row: number, col: number) => number) => {
          if (!binary) {
            const data = new Array<number>(rows * length);
            for (let r = 0; r < rows; r++) for (let k = 0; k < length; k++) data[r * length + k] = at(r, k);
            return data;
          }
          // INT64 little-endian: ids and masks are below 2^31, so each is its low 32-bit word, the high word 0.
          if (LITTLE_ENDIAN) {
            const words = new Int32Array(rows * length * 2);
            for (let r = 0; r < rows; r++) for (let k = 0; k < length; k++) words[2 * (r * length + k)] = at(r, k);
            return Buffer.from(words.buffer);
          }
          const buf = Buffer.alloc(rows * length * 8);
          for (let r = 0; r < rows; r++)
            for (let k = 0; k < length; k++) buf.writeInt32LE(at(r, k), (r * length + k) * 8);
          return buf;
        };
        if (name === 'input_ids') return fill((r, k) => encoded[r].ids[k] ?? encoder.padId);
        if (name === 'attention_mask') return fill((r, k) => (k < encoded[r].ids.length ? 1 : 0));
        return fill(() => 0); // token_type_ids: one segment
      };
      const data = inputs.map(tensor);
      const header = {
        inputs: inputs.map((name, i) => ({
          name,
          shape: [rows, length],
          datatype: 'INT64',
          ...(binary ? { parameters: { binary_data_size: (data[i] as Buffer).byteLength } } : { data: data[i] }),
        })),
        outputs: [{ name: output.name, parameters: { binary_data: binary } }],
      };
      const json = Buffer.from(JSON.stringify(header));
      const answer = await c.http.request(url, {
        body: binary ? Buffer.concat([json, ...(data as Buffer[])]) : json,
        headers: binary
          ? { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.byteLength) }
          : { 'content-type': 'application/json' },
        signal,
      });
      if (answer.status !== 200) throw refused(url, c.http, answer);
      const scores = readOutput(url, answer, output.name, rows);
      return scores.map((score, i) => ({ score, truncated: encoded[i].truncated }));
    },
  };
}

/** The output tensor's values, one per row, from a binary or a JSON answer. */
function readOutput(url: string, answer: HttpAnswer, name: string, rows: number): number[] {
  const declared = answer.headers['inference-header-content-length'];
  const jsonLength = declared === undefined ? answer.body.byteLength : Number(declared);
  if (!Number.isInteger(jsonLength) || jsonLength < 0 || jsonLength > answer.body.byteLength)
    throw shapeError(url, 'Inference-Header-Content-Length header', `at most ${answer.body.byteLength}`, declared);
  const head = answerJson(url, { ...answer, body: answer.body.subarray(0, jsonLength) }) as { outputs?: unknown };
  if (!Array.isArray(head.outputs)) throw shapeError(url, 'outputs', 'a list of tensors', head.outputs);
  let offset = jsonLength;
  for (let i = 0; i < head.outputs.length; i++) {
    const t = head.outputs[i] as {
      name?: unknown;
      datatype?: unknown;
      shape?: unknown;
      data?: unknown;
      parameters?: { binary_data_size?: unknown };
    };
    const size = t?.parameters?.binary_data_size;
    const start = offset;
    if (size !== undefined) {
      if (typeof size !== 'number' || !Number.isInteger(size) || size < 0 || offset + size > answer.body.byteLength)
        throw shapeError(url, `outputs[${i}].parameters.binary_data_size`, 'the size of the bytes that follow', size);
      offset += size;
    }
    if (t?.name !== name) continue;
    const field = `outputs[${i}]`;
    const shape = t.shape;
    const count = Array.isArray(shape) ? shape.reduce((a: number, b) => a * Number(b), 1) : NaN;
    if (!Array.isArray(shape) || shape[0] !== rows || count !== rows)
      throw shapeError(url, `${field}.shape`, `[${rows}, 1] (one score per row)`, shape);
    let values: number[];
    if (size !== undefined) {
      const bytes = BYTES[t.datatype as string];
      if (!bytes) throw shapeError(url, `${field}.datatype`, 'FP16, FP32 or FP64', t.datatype);
      if (size !== rows * bytes) throw shapeError(url, `${field}.parameters.binary_data_size`, `${rows * bytes}`, size);
      const b = answer.body.subarray(start, start + size);
      values = Array.from({ length: rows }, (_, r) =>
        bytes === 4 ? b.readFloatLE(r * 4) : bytes === 8 ? b.readDoubleLE(r * 8) : half(b.readUInt16LE(r * 2)),
      );
    } else {
      if (!Array.isArray(t.data) || t.data.length !== rows)
        throw shapeError(url, `${field}.data`, `a list of ${rows} number(s)`, t.data);
      values = t.data as number[];
    }
    values.forEach((v, r) => {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw shapeError(url, `${field}.data[${r}]`, 'a finite number', v);
    });
    return values;
  }
  throw shapeError(url, 'outputs', `a tensor named "${name}"`, head.outputs);
}

/** IEEE 754 half precision to a number. */
function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}
