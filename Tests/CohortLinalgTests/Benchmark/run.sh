#!/bin/sh
# Builds CohortLinalg in release, links Benchmark/main.swift against it, and times
# 512×512 solve and eigh next to numpy.linalg (medians of 5) in one sitting.
# Usage (from the package root): sh Tests/CohortLinalgTests/Benchmark/run.sh [SCRATCH]
set -e
S=${1:-.build}
R=$S/release
swift build -c release --scratch-path "$S" --target CohortLinalg
# OpenBLAS 0.3.21 falls back to Prescott on this CPU (docs/environment.md): set a coretype.
: "${OPENBLAS_CORETYPE:=SkylakeX}"; export OPENBLAS_CORETYPE
: "${OPENBLAS_NUM_THREADS:=1}"; export OPENBLAS_NUM_THREADS
swiftc -O -module-name LinalgBench -I "$R/Modules" \
  -Xcc -fmodule-map-file=Sources/COpenBLAS/module.modulemap -Xcc -ISources/COpenBLAS \
  Tests/CohortLinalgTests/Benchmark/main.swift \
  "$R"/CohortLinalg.build/*.o "$R"/CohortTensor.build/*.o "$R"/CohortKernels.build/*.o "$R"/CohortCore.build/*.o \
  -lopenblas -o "$S/linalg-bench" 2>&1 | grep -v warning || true
echo "OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS"
"$S/linalg-bench"
python3 - <<'PY'
import time, numpy as np
rng = np.random.default_rng(1); n = 512
x = rng.standard_normal((n, n)).astype(np.float32)
a = x + 2 * np.sqrt(n) * np.eye(n, dtype=np.float32); b = rng.standard_normal((n, 1)).astype(np.float32)
s = x @ x.T
def med(f):
    ts = []
    for _ in range(5):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return sorted(ts)[2] * 1e3
np.linalg.solve(a, b)
a64, b64, s64 = a.astype(np.float64), b.astype(np.float64), s.astype(np.float64)
print(f"numpy  solve 512: median {med(lambda: np.linalg.solve(a64, b64)):.2f} ms  eigh 512: median {med(lambda: np.linalg.eigh(s64)):.2f} ms (float64, d* routines like Cohort)")
print(f"numpy  solve 512: median {med(lambda: np.linalg.solve(a, b)):.2f} ms  eigh 512: median {med(lambda: np.linalg.eigh(s)):.2f} ms (float32 in, numpy {np.__version__})")
PY
