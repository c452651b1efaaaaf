#!/usr/bin/env bash
# Prepares the GPU check on this (CPU) machine, into .device/ (ignored by git):
# - pack.tar.xz: the Node binary and the only node_modules the check loads at run time
#   (onnxruntime-node for linux-x64, onnxruntime-common; everything else is bundled), the same
#   layout as ../shared/gpu/pack-for-device.sh but a fraction of its size and time;
# - *.deb: the Vulkan loader and GL dispatch libraries that the WebGPU provider needs;
# - inputs/: HH-RLHF harmless-base and the reward model train-rm fits on half of it (seed 1);
# - gpu-check.cjs: the check, bundled.
# Then, on the GPU machine, with .device carried: bash scripts/gpu-check.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
hh=../shared/data/hh-rlhf/harmless-base-test.jsonl.gz
[ -f "$hh" ] || { echo "missing $hh" >&2; exit 2; }
[ -f dist/cli.js ] || npm run build
grep -qx '/.device/' .git/info/exclude 2>/dev/null || echo '/.device/' >> .git/info/exclude
rm -rf .device && mkdir -p .device/stage/node_modules .device/inputs
cp "$(readlink -f "$(command -v node)")" .device/stage/node
tar -C "$root" --exclude='node_modules/onnxruntime-node/bin/napi-v*/darwin' \
    --exclude='node_modules/onnxruntime-node/bin/napi-v*/win32' \
    --exclude='node_modules/onnxruntime-node/bin/napi-v*/linux/arm64' \
    -cf - node_modules/onnxruntime-node node_modules/onnxruntime-common | tar -C .device/stage -xf -
tar -C .device/stage -cf - . | xz -T0 -3 > .device/pack.tar.xz
rm -rf .device/stage
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
mkdir -p /tmp/amd64/partial
apt-get $o update >/dev/null 2>&1 || true
(cd .device && apt-get $o download libvulkan1 libglvnd0 libglx0 libgl1 libegl1 libopengl0 libgles2 \
   libx11-6 libxext6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0 2>&1 | grep -v unsandboxed | tail -1)
cp "$hh" .device/inputs/
db=$(mktemp -d)/gpu-check.db
node bin/discretion.js import hh-rlhf "$hh" --dataset hh --db "$db" >/dev/null
node bin/discretion.js train-rm --db "$db" --dataset hh --annotator human --out .device/inputs/rm-hh --seed 1 --json
rm -f "$db" "$db"-wal "$db"-shm
npx esbuild scripts/gpu-check.ts --bundle --platform=node --format=cjs --target=node20 --external:onnxruntime-node --external:libsql --outfile=.device/gpu-check.cjs --log-level=warning
du -sh .device
echo "ready: on the GPU machine run 'bash scripts/gpu-check.sh' with .device carried (run tool: carry [\".device\"])"
