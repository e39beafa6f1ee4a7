#!/usr/bin/env bash
# `make test`'s second pass: the numeric test suites again under other OpenBLAS
# kernels than the one OpenBLAS picks on this machine, so that a kernel-dependent
# assumption (an exact zero from LAPACK, a last digit of a GEMM) fails everywhere,
# not only on the machine whose kernel differs. Usage: second-blas-kernel.sh BUILD_DIR [CONFIG]
# (after the tests were built in BUILD_DIR, CONFIG debug (default) or release as `make test`
# builds them; COHORT_BIN names the release cohort).
set -euo pipefail
build_dir=${1:-.build}
config=${2:-debug}
bin=${COHORT_BIN:?COHORT_BIN must name the release cohort binary}
suites='CohortKernelsTests|CohortTensorTests|CohortNNTests|CohortLinalgTests|CohortCalculusTests|CohortProbabilityTests|CohortMinimizeTests|CohortStatsTests|CohortMetricsTests'

# The kernel OpenBLAS loads with by itself: its first "Core:" line (OPENBLAS_VERBOSE=2).
core_of() { env -u COHORT_BLAS_REEXEC OPENBLAS_VERBOSE=2 "$@" "$bin" --help 2>&1 | sed -n 's/^Core: *//p' | head -n 1; }
default=$(core_of env -u OPENBLAS_CORETYPE)
[ -n "$default" ] || { echo "second-blas-kernel: could not read OpenBLAS's kernel (OPENBLAS_VERBOSE=2 $bin --help)"; exit 1; }

# ISA class of a kernel name, as BLASRuntime's ISALevel groups them.
isa_of() {
  case "$(echo "$1" | tr 'A-Z' 'a-z')" in
    skylakex|cooperlake|sapphirerapids) echo avx512 ;;
    haswell|zen|excavator) echo avx2 ;;
    sandybridge|bulldozer|piledriver|steamroller) echo avx ;;
    *) echo sse ;;
  esac
}
flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
has() { [[ "$flags" == *" $1 "* ]]; }
# One kernel of every other ISA class the CPU runs: Haswell (AVX2+FMA), Sandybridge (AVX, no
# FMA: other roundings), and an SSE kernel (Nehalem, or Prescott where Nehalem is the default) —
# so an AVX-512 machine checks what an AVX2-only, an AVX-only and an old machine compute. Zen and
# Haswell share most kernels (both AVX2), so a Zen machine runs Sandybridge and the SSE kernel.
kernels=()
has avx2 && has fma && [ "$(isa_of "$default")" != avx2 ] && kernels+=(Haswell)
has avx && [ "$(isa_of "$default")" != avx ] && kernels+=(Sandybridge)
if [ "$(isa_of "$default")" != sse ]; then kernels+=(Nehalem)
elif [ "$(echo "$default" | tr 'A-Z' 'a-z')" != prescott ]; then kernels+=(Prescott)
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for kernel in "${kernels[@]}"; do
  actual=$(core_of env OPENBLAS_CORETYPE="$kernel")
  if [ "$(echo "$actual" | tr 'A-Z' 'a-z')" != "$(echo "$kernel" | tr 'A-Z' 'a-z')" ]; then
    echo "second-blas-kernel: OPENBLAS_CORETYPE=$kernel gave kernel '$actual' (an OpenBLAS built without DYNAMIC_ARCH?)"; exit 1
  fi
  echo "== numeric suites under OPENBLAS_CORETYPE=$kernel (OpenBLAS picks $default here)"
  status=0
  OPENBLAS_CORETYPE=$kernel "${SWIFT:-swift}" test -c "$config" --skip-build --scratch-path "$build_dir" --filter "$suites" 2>&1 | tee "$log" || status=$?
  ran=$(sed -n 's/.*Test run with \([0-9][0-9]*\) tests\{0,1\}.*/\1/p' "$log" | tail -n 1)
  if [ "$status" -ne 0 ]; then echo "second-blas-kernel: the numeric suites failed under OPENBLAS_CORETYPE=$kernel"; exit "$status"; fi
  if [ -z "$ran" ] || [ "$ran" -eq 0 ]; then echo "second-blas-kernel: no test ran (filter '$suites')"; exit 1; fi
  echo "== $ran numeric tests passed under OPENBLAS_CORETYPE=$kernel"
done
