// Seeded input tensors for gradient and value tests: plain uniform draws,
// draws kept away from kinks (0 for relu/abs, ties for max), and leaves that
// are non-contiguous views, so ops are exercised on strided inputs directly.
import CohortTensor

/// Deterministic test inputs. Every maker takes a seed; equal seeds give equal tensors.
public enum Fixtures {
    /// Uniform values in `[low, high)` of `shape`.
    public static func uniform(_ shape: [Int], _ low: Float = -1, _ high: Float = 1, seed: UInt64,
                               requiresGrad: Bool = true) -> Tensor {
        var g = RandomGenerator(seed: seed)
        let t = Tensor.rand(shape, low: low, high: high, generator: &g)
        t.requiresGrad = requiresGrad
        return t
    }

    /// Values with magnitude uniform in `[low, high)` and a random sign: every element
    /// stays at least `low` away from 0 (for relu, abs, sign-sensitive ops, divisors).
    public static func awayFromZero(_ shape: [Int], _ low: Float = 0.1, _ high: Float = 1, seed: UInt64,
                                    requiresGrad: Bool = true) -> Tensor {
        var g = RandomGenerator(seed: seed)
        let count = shape.reduce(1, *)
        let values = (0..<count).map { _ -> Float in
            let m = low + (high - low) * g.nextFloat()
            return g.nextFloat() < 0.5 ? -m : m
        }
        return try! Tensor(values, shape: shape, requiresGrad: requiresGrad)
    }

    /// Pairwise-distinct values `start, start + spacing, …` in a seeded random order, so
    /// no two elements are within `spacing` of each other (max/min without ties).
    public static func distinct(_ shape: [Int], spacing: Float = 0.1, start: Float? = nil, seed: UInt64,
                                requiresGrad: Bool = true) -> Tensor {
        var g = RandomGenerator(seed: seed)
        let count = shape.reduce(1, *)
        let first = start ?? -spacing * Float(count) / 2
        let values = g.permutation(count).map { first + spacing * Float($0) }
        return try! Tensor(values, shape: shape, requiresGrad: requiresGrad)
    }

    /// A leaf of `shape` that views the transpose of a contiguous buffer: its last two
    /// dimensions are swapped in memory (strides `[…, 1, shape[r-2]]`). Values uniform.
    public static func transposedLeaf(_ shape: [Int], _ low: Float = -1, _ high: Float = 1, seed: UInt64) -> Tensor {
        precondition(shape.count >= 2, "transposedLeaf needs rank ≥ 2")
        let r = shape.count
        var stored = shape
        stored.swapAt(r - 2, r - 1)
        let base = uniform(stored, low, high, seed: seed, requiresGrad: false)
        var strides = base.strides
        strides.swapAt(r - 2, r - 1)
        return Tensor(storage: base.storage, shape: shape, strides: strides, offset: 0, requiresGrad: true)
    }

    /// A leaf of `shape` that views every `step`-th element of a larger buffer along the
    /// last axis, starting at element 1 (non-contiguous, non-zero offset). Values uniform.
    public static func steppedLeaf(_ shape: [Int], step: Int = 2, _ low: Float = -1, _ high: Float = 1, seed: UInt64) -> Tensor {
        precondition(!shape.isEmpty && step >= 1, "steppedLeaf needs rank ≥ 1 and step ≥ 1")
        var stored = shape
        stored[stored.count - 1] = shape[shape.count - 1] * step + 1
        let base = uniform(stored, low, high, seed: seed, requiresGrad: false)
        var strides = base.strides
        strides[strides.count - 1] = step
        return Tensor(storage: base.storage, shape: shape, strides: strides, offset: 1, requiresGrad: true)
    }
}
