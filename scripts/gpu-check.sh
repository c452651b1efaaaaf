#!/usr/bin/env bash
# The GPU check, on the GPU machine (after scripts/gpu-check-prepare.sh here; carry .device).
# Unpacks Node, node_modules and the Vulkan loader (prefix from ../shared/gpu/pack-for-device.sh),
# then scores the same inputs on webgpu and cpu. Log and JSON land in $OUT (or .tmp/gpu-check).
set -uo pipefail
cd "$(dirname "$0")/.."
for f in .device/*.deb; do dpkg -x "$f" /; done; ldconfig
mkdir -p /tmp/d && tar -C /tmp/d -xJf .device/pack.tar.xz && ln -sfn /tmp/d/node_modules node_modules
export PATH=/tmp/d:$PATH VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
out=${OUT:-.tmp/gpu-check}
mkdir -p "$out" && out=$(cd "$out" && pwd)
# The bundle resolves onnxruntime-node from the project's node_modules (the link above).
cp .device/gpu-check.cjs ./.gpu-check.cjs
node ./.gpu-check.cjs --inputs .device/inputs --out "$out"
rc=$?
# Stretch (does not change the exit code): the same transformer in PyTorch on CUDA, exported to
# ONNX and run by our runner on webgpu; prints our throughput as a ratio of torch's.
if [ "${GPU_CHECK_TORCH:-1}" = 1 ] && python3 -c 'import torch, onnx' 2>/dev/null; then
  if timeout 300 python3 scripts/gpu-check-torch.py /tmp/discretion-gpu-models/transformer "$out/transformer-lengths.json" /tmp/discretion-gpu-models/torch-export "$out/torch.json" 2>&1 | tail -3 | tee -a "$out/gpu-check.log"; then
    node ./.gpu-check.cjs --inputs .device/inputs --out /tmp/gpu-check-extra --extra-model /tmp/discretion-gpu-models/torch-export 2>&1 | tail -1 | tee -a "$out/gpu-check.log"
    cp /tmp/gpu-check-extra/gpu-check-extra.json "$out/" 2>/dev/null
    node -e 'const t=require(process.argv[1]), o=require(process.argv[2]); console.log(`torch fp32 CUDA ${t.torch_fp32_pairs_per_s.toFixed(1)} pairs/s on ${t.device}; our runner (webgpu) on its export ${o.pairsPerSecond.toFixed(1)} pairs/s = ${(o.pairsPerSecond / t.torch_fp32_pairs_per_s).toFixed(3)}x torch`)' "$out/torch.json" "$out/gpu-check-extra.json" 2>&1 | tee -a "$out/gpu-check.log"
  fi
fi
rm -f ./.gpu-check.cjs
exit $rc
