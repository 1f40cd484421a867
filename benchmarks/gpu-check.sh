#!/usr/bin/env bash
# One command for a machine with a GPU OpenCL platform (NVIDIA/AMD/Intel): the backend parity suite
# and the diffusion conformance on that device, GEMM/conv/attention throughput against the device's
# FP32 peak, and a 1024² SDXL UNet step (CFG + PAG, random F16 weights) on the device.
# Never part of CI. Usage: benchmarks/gpu-check.sh [DEVICE_NAME_SUBSTRING]   (default: first GPU)
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
export PATH="$JAVA_HOME/bin:$PATH"
DEVICE="${1:-}"
# The device choice reaches forked test JVMs through the environment.
[ -n "$DEVICE" ] && export PAGODA_OPENCL_DEVICE="$DEVICE"

echo "== OpenCL devices"; clinfo -l || true

echo "== build"
./mvnw -q -B -o -DskipTests package -pl benchmarks -am 2>/dev/null || ./mvnw -q -B -DskipTests package -pl benchmarks -am

echo "== parity suite and conformance on the device"
./mvnw -B -o -pl kernels-opencl,diffusion -am test -Docl.required=true -Dsurefire.failIfNoSpecifiedTests=false \
  -Dtest='BackendParityTest,OpenClErrorsTest,OpenClConformanceTest,OpenClStepCountersTest' \
  | grep -E 'Tests run:|FAIL|ERROR' || true

JAVA=(java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx24g -cp benchmarks/target/benchmarks.jar)
echo "== GEMM / conv / attention throughput"
"${JAVA[@]}" dev.pagoda.bench.DeviceCheck --backend opencl --reps 10

echo "== SDXL base UNet, 1024², batch 3 (CFG + PAG mid), random F16 weights"
"${JAVA[@]}" dev.pagoda.bench.UNetStepBench --resolution 1024 --batch 3 --reps 3 --backend opencl
