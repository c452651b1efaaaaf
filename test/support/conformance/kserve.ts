// A Triton / KServe v2 server with an ONNX Runtime classifier, written from
// https://kserve.github.io/website/docs/concepts/architecture/data-plane/v2-protocol/ and
// https://docs.nvidia.com/deeplearning/triton-inference-server/user-guide/docs/protocol/extension_binary_data.html:
// - GET /v2/models/{m}: {"name", "versions", "platform": "onnxruntime_onnx", "inputs": [{"name", "datatype": "INT64",
//   "shape": [-1, -1]}, ...], "outputs": [{"name": "logits", "datatype": "FP32", "shape": [-1, 1]}]}; an unknown model,
//   400 {"error": "Request for unknown model: 'x' is not found"}.
// - POST /v2/models/{m}/infer: the JSON header, then with the binary tensor extension (header
//   Inference-Header-Content-Length = the JSON's length) each input's bytes in order, `parameters.binary_data_size`
//   long, little-endian, row major; else the numbers in "data". Every input must have the shape [batch, length] of
//   the others (one length per request). An output asked with `parameters.binary_data: true` comes back as raw bytes
//   after the answer's JSON (its binary_data_size given, the JSON's length in the same header), else as "data".
// - The score of a row is of its ids under attention_mask 1 (score.ts, FNV-1a over the ids), as FP32; the mask must
//   be 1s then 0s (right padding) with PAD under the 0s, and a row that starts with BOS twice is refused.
import { ConformanceServer, type Handled, type Reply, start } from './base';
import { BOS_ID, PAD_ID, rawScore } from './score';

export interface KserveOptions {
  model?: string;
  /** Inputs the model declares (default input_ids, attention_mask). */
  inputs?: string[];
  outputName?: string;
}

interface InTensor {
  name: string;
  shape: number[];
  datatype: string;
  data?: number[];
  parameters?: { binary_data_size?: number };
}

export function kserveServer(o: KserveOptions = {}): Promise<ConformanceServer> {
  const model = o.model ?? 'rm';
  const inputNames = o.inputs ?? ['input_ids', 'attention_mask'];
  const outputName = o.outputName ?? 'logits';
  const bad = (error: string): Handled => ({ reply: { status: 400, body: { error } } });
  return start(
    new ConformanceServer((req): Handled => {
      const m = /^\/v2\/models\/([^/]+)(\/infer)?$/.exec(req.path);
      if (!m) return { reply: { status: 404, body: { error: 'Not Found' } } };
      if (decodeURIComponent(m[1]) !== model)
        return bad(`Request for unknown model: '${decodeURIComponent(m[1])}' is not found`);
      if (!m[2])
        return {
          reply: {
            status: 200,
            body: {
              name: model,
              versions: ['1'],
              platform: 'onnxruntime_onnx',
              inputs: inputNames.map((name) => ({ name, datatype: 'INT64', shape: [-1, -1] })),
              outputs: [{ name: outputName, datatype: 'FP32', shape: [-1, 1] }],
            },
          },
        };
      const declared = req.headers['inference-header-content-length'];
      const jsonLength = declared === undefined ? req.body.byteLength : Number(declared);
      const head = JSON.parse(req.body.subarray(0, jsonLength).toString('utf8')) as {
        inputs: InTensor[];
        outputs?: { name: string; parameters?: { binary_data?: boolean } }[];
      };
      // Each input's values, from its bytes after the header or from "data".
      let offset = jsonLength;
      const values = new Map<string, number[]>();
      let shape: number[] | undefined;
      for (const t of head.inputs) {
        if (t.datatype !== 'INT64') return bad(`input '${t.name}' datatype ${t.datatype}, expected INT64`);
        if (!inputNames.includes(t.name)) return bad(`unexpected inference input '${t.name}'`);
        if (shape && (t.shape.length !== 2 || t.shape[0] !== shape[0] || t.shape[1] !== shape[1]))
          return bad(`input '${t.name}' shape [${t.shape}] differs from [${shape}]`);
        shape = t.shape;
        const n = t.shape[0] * t.shape[1];
        const size = t.parameters?.binary_data_size;
        if (size !== undefined) {
          if (size !== n * 8 || offset + size > req.body.byteLength)
            return bad(`input '${t.name}' binary_data_size ${size}, expected ${n * 8}`);
          // Little-endian INT64 as 32-bit words (copied to align them): the value is the low word, the high one 0.
          const words = new Int32Array(new Uint8Array(req.body.subarray(offset, offset + size)).buffer);
          const v = new Array<number>(n);
          for (let i = 0; i < n; i++) {
            if (words[2 * i + 1] !== 0 || words[2 * i] < 0)
              return bad(`input '${t.name}' value ${i} is not a token id`);
            v[i] = words[2 * i];
          }
          values.set(t.name, v);
          offset += size;
        } else {
          if (!Array.isArray(t.data) || t.data.length !== n) return bad(`input '${t.name}' data is not ${n} numbers`);
          values.set(t.name, t.data);
        }
      }
      if (offset !== req.body.byteLength)
        return bad(`${req.body.byteLength - offset} unexpected bytes after the inputs`);
      for (const name of inputNames) if (!values.has(name)) return bad(`expected input '${name}'`);
      const [rows, length] = shape!;
      const ids = values.get('input_ids')!;
      const mask = values.get('attention_mask') ?? ids.map(() => 1);
      const keys: string[] = [];
      const scores: number[] = [];
      for (let r = 0; r < rows; r++) {
        const row = ids.slice(r * length, (r + 1) * length);
        const rowMask = mask.slice(r * length, (r + 1) * length);
        const n = rowMask.indexOf(0) < 0 ? length : rowMask.indexOf(0);
        if (rowMask.slice(n).some((x) => x !== 0) || row.slice(n).some((x) => x !== PAD_ID))
          return bad(`row ${r}: the attention mask is not 1s then 0s over PAD`);
        if (row[0] === BOS_ID && row[1] === BOS_ID) return bad(`conformance: row ${r} starts with BOS twice`);
        const unmasked = row.slice(0, n);
        keys.push(unmasked.join(','));
        scores.push(Math.fround(rawScore(unmasked)));
      }
      const wanted = head.outputs?.find((x) => x.name === outputName);
      const reply = (): Reply => {
        const out = { name: outputName, datatype: 'FP32', shape: [rows, 1] };
        if (!wanted?.parameters?.binary_data)
          return { status: 200, body: { model_name: model, model_version: '1', outputs: [{ ...out, data: scores }] } };
        const bytes = Buffer.alloc(rows * 4);
        scores.forEach((s, i) => bytes.writeFloatLE(s, i * 4));
        const json = Buffer.from(
          JSON.stringify({
            model_name: model,
            model_version: '1',
            outputs: [{ ...out, parameters: { binary_data_size: bytes.byteLength } }],
          }),
        );
        return {
          status: 200,
          headers: { 'inference-header-content-length': String(json.byteLength) },
          body: Buffer.concat([json, bytes]),
        };
      };
      return {
        inputs: keys,
        reply: reply(),
        wrongShape: () => ({
          status: 200,
          body: {
            model_name: model,
            outputs: [{ name: outputName, datatype: 'FP32', shape: [rows, 2], data: scores }],
          },
        }),
      };
    }),
  );
}
