"""Stretch part of the GPU check (run by scripts/gpu-check.sh when torch is importable).

Builds the benchmark transformer's architecture (post-LN BERT-style encoder, CLS pooling, one logit;
sizes from the project-built folder's config.json) in PyTorch with random weights, scores sequences
with the same lengths and the same length-bucketed batching as our runner on CUDA (fp32, TF32 off),
exports the model to ONNX next to a copy of our tokenizer files, and prints torch's pairs/s as JSON.
Our runner then scores that export on webgpu (gpu-check.cjs --extra-model) for the ratio.
Usage: python3 gpu-check-torch.py TRANSFORMER_DIR LENGTHS_JSON EXPORT_DIR OUT_JSON
"""
import json, math, os, shutil, sys, time
import torch
from torch import nn

src, lengths_file, export_dir, out_json = sys.argv[1:5]
cfg = json.load(open(os.path.join(src, 'config.json')))
V, H, NH, F, L, S = cfg['vocab_size'], cfg['hidden_size'], cfg['num_attention_heads'], cfg['intermediate_size'], cfg['num_hidden_layers'], cfg['max_position_embeddings']
DH = H // NH
torch.manual_seed(1234)
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(H, H) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(H, eps=1e-12), nn.LayerNorm(H, eps=1e-12)
        self.f1, self.f2 = nn.Linear(H, F), nn.Linear(F, H)

    def forward(self, x, bias):
        B, T, _ = x.shape
        q = self.q(x).view(B, T, NH, DH).transpose(1, 2)
        k = self.k(x).view(B, T, NH, DH).permute(0, 2, 3, 1)
        v = self.v(x).view(B, T, NH, DH).transpose(1, 2)
        a = torch.softmax(q @ k / math.sqrt(DH) + bias, dim=-1) @ v
        x = self.ln1(x + self.o(a.transpose(1, 2).reshape(B, T, H)))
        h = self.f1(x)
        return self.ln2(x + self.f2(0.5 * h * (1 + torch.erf(h / math.sqrt(2)))))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.word, self.pos = nn.Embedding(V, H), nn.Embedding(S, H)
        self.ln = nn.LayerNorm(H, eps=1e-12)
        self.layers = nn.ModuleList(Layer() for _ in range(L))
        self.pool, self.cls = nn.Linear(H, H), nn.Linear(H, 1)

    def forward(self, input_ids, attention_mask):
        T = input_ids.shape[1]
        pos = torch.arange(T, device=input_ids.device)
        x = self.ln(self.word(input_ids) + self.pos(pos)[None])
        bias = ((1 - attention_mask.to(x.dtype)) * -10000.0)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, bias)
        return self.cls(torch.tanh(self.pool(x[:, 0])))


model = Model().eval()
for p in model.parameters():
    nn.init.normal_(p, std=0.02)
lengths = json.load(open(lengths_file))['lengths']
batch = json.load(open(lengths_file)).get('batchSize', 32)
order = sorted(range(len(lengths)), key=lambda i: lengths[i])
g = torch.Generator().manual_seed(0)
batches = []
for s in range(0, len(order), batch):
    m = order[s:s + batch]
    T = max(1, lengths[m[-1]])
    ids = torch.zeros(len(m), T, dtype=torch.long)
    mask = torch.zeros(len(m), T, dtype=torch.long)
    for r, i in enumerate(m):
        ids[r, :lengths[i]] = torch.randint(4, V, (lengths[i],), generator=g)
        mask[r, :lengths[i]] = 1
    batches.append((ids, mask))
result = {'sequences': len(lengths), 'batch_size': batch, 'device': None}
if torch.cuda.is_available():
    dev = torch.device('cuda')
    m = model.to(dev)
    gb = [(i.to(dev), k.to(dev)) for i, k in batches]
    with torch.inference_mode():
        for i, k in gb[:2]:
            m(i, k)
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for i, k in gb:
            m(i, k)
        torch.cuda.synchronize()
        secs = time.perf_counter() - t0
    result.update(device=torch.cuda.get_device_name(0), torch_fp32_seconds=secs, torch_fp32_pairs_per_s=len(lengths) / 2 / secs)
    model = model.cpu()
os.makedirs(os.path.join(export_dir, 'onnx'), exist_ok=True)
for f in ('tokenizer.json', 'tokenizer_config.json', 'config.json'):
    shutil.copy(os.path.join(src, f), os.path.join(export_dir, f))
ids, mask = batches[0]
torch.onnx.export(model, (ids, mask), os.path.join(export_dir, 'onnx', 'model.onnx'), input_names=['input_ids', 'attention_mask'], output_names=['logits'],
                  dynamic_axes={'input_ids': {0: 'batch', 1: 'sequence'}, 'attention_mask': {0: 'batch', 1: 'sequence'}, 'logits': {0: 'batch'}}, opset_version=17, dynamo=False)
result['export'] = export_dir
json.dump(result, open(out_json, 'w'), indent=2)
print(json.dumps(result))
