#!/bin/bash
# Runs on the device machine (see prepare.sh): unpacks Node, Dawn and the Vulkan loader, then
# `bench:gpu` on the real GPU, writing the log and the results table to $OUT.
set -uo pipefail
cd "$(dirname "$0")/../.."
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
unxz() { xz -dc "$1" 2>/dev/null || python3 -c "import lzma,sys; sys.stdout.buffer.write(lzma.open(sys.argv[1]).read())" "$1"; }
unxz .device/node.xz > /tmp/node && chmod +x /tmp/node
# The bundle links esbuild (the compiler's), never calls it here: the modules are prebuilt.
mkdir -p node_modules && [ -d node_modules/esbuild ] || cp -r .device/esbuild node_modules/esbuild
mkdir -p node_modules/webgpu/dist/linux-x64
cp .device/webgpu/package.json .device/webgpu/index.js node_modules/webgpu/
unxz .device/webgpu/dawn.node.xz > node_modules/webgpu/dist/linux-x64/dawn.node
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
/tmp/node --version
/tmp/node .device/bench/gpu.js --prebuilt .device/gen "$@" 2>&1 | tee "${OUT:-/tmp}/bench-gpu.log"
cp bench/gpu-results*.md "${OUT:-/tmp}/" 2>/dev/null || true
