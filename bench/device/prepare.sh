#!/bin/bash
# Prepares .device/ for running `npm run bench:gpu` on a machine with a GPU and without Node or
# the npm registry (the device tool's machines): a compressed Node binary, Dawn's binary for
# linux-x64, the benchmark bundled into one file, the benchmark networks' modules prebuilt, and
# the Vulkan loader's Debian package. Then: bench/device/run.sh there, carrying .device, .gl, dist.
set -euo pipefail
cd "$(dirname "$0")/../.."
grep -qx '/.device/' .git/info/exclude || echo '/.device/' >> .git/info/exclude
grep -qx '/.gl/' .git/info/exclude || echo '/.gl/' >> .git/info/exclude
rm -rf .device && mkdir -p .device/gen .device/webgpu
node scripts/build.mjs --no-types
xz -T2 -6 -c "$(command -v node)" > .device/node.xz
cp node_modules/webgpu/package.json node_modules/webgpu/index.js .device/webgpu/
xz -T2 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > .device/webgpu/dawn.node.xz
npx esbuild bench/gpu.ts --bundle --platform=node --format=esm --splitting --outdir=.device/bench \
  --external:webgpu --external:esbuild --log-level=warning \
  --banner:js="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);"
# The bundle links the compiler's esbuild but never calls it there: a stub stands in for it.
mkdir -p .device/esbuild
printf '{"name":"esbuild","version":"0.0.0-stub","type":"module","main":"index.js"}\n' > .device/esbuild/package.json
printf 'const no = () => { throw new Error("esbuild is not on this machine"); };\nexport const build = no, transform = no, transformSync = no, buildSync = no, context = no;\nexport default { build, transform, transformSync, buildSync, context };\n' > .device/esbuild/index.js
cat > .device/prebuild.ts <<'TS'
import { writeFileSync } from 'node:fs';
import { compile } from '../compiler/compile.ts';
import { NETWORKS, mlpGraph } from '../bench/networks.ts';
for (const spec of NETWORKS) {
  for (const f of compile(mlpGraph(spec), { targets: ['js', 'wgsl'] }).files) {
    if (f.name.endsWith('.js')) writeFileSync(`.device/gen/${f.name}`, f.contents);
  }
}
TS
npx tsx .device/prebuild.ts
if [ ! -d .gl ]; then
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # The Vulkan loader, and the GL dispatch libraries NVIDIA's Vulkan driver links against.
  apt-get $o update -qq && (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
du -sh .device .gl dist
