// Speed of Linalg.solve and Linalg.eigh on 512×512 against numpy.linalg, same machine:
// medians of 5 runs each. Not a test (no pass/fail); excluded from the test target and
// built by Benchmark/run.sh against a release build of CohortLinalg.
import CohortLinalg
import CohortTensor
import Glibc

func seconds(_ body: () throws -> Void) rethrows -> Double {
    var t0 = timespec(), t1 = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t0)
    try body()
    clock_gettime(CLOCK_MONOTONIC, &t1)
    return Double(t1.tv_sec - t0.tv_sec) + Double(t1.tv_nsec - t0.tv_nsec) * 1e-9
}

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

let n = 512
var g = RandomGenerator(seed: 1)
let x = Tensor.randn([n, n], generator: &g)
var values = x.scalars
for i in 0..<n { values[i * n + i] += Float(n).squareRoot() * 2 }
let a = try Tensor(values, shape: [n, n])
let b = Tensor.randn([n, 1], generator: &g)
let s = try Tensor.matmul(x, x.transpose()) + Tensor.full([n, n], 0)
_ = try Linalg.solve(a, b)   // warm-up (workspaces, thread pool)
let solve = try (0..<5).map { _ in try seconds { _ = try Linalg.solve(a, b) } }
let eigh = try (0..<5).map { _ in try seconds { _ = try Linalg.eigh(s) } }
print(String(format: "cohort solve 512: median %.2f ms  eigh 512: median %.2f ms", median(solve) * 1e3, median(eigh) * 1e3))
