// The models' random numbers: xoshiro256** seeded through CohortCore's SplitMix64.
// Its state is four UInt64 words, saved in checkpoints, so a resumed run draws
// the same bits as an uninterrupted one.
import CohortCore

/// A seeded xoshiro256** generator with serialisable state.
public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable {
    // The four words in registers, not an array: the hot loops (dropout masks, augmentation
    // noise) draw one word per element.
    @usableFromInline var s0, s1, s2, s3: UInt64

    /// The full generator state (restore with `init(state:)`).
    public var state: [UInt64] { [s0, s1, s2, s3] }

    /// Seeds the generator; equal seeds give equal streams.
    public init(seed: UInt64) {
        var s = SplitMix64(seed: seed)
        (s0, s1, s2, s3) = (s.next(), s.next(), s.next(), s.next())
    }

    /// Restores a generator from `state` (four words, not all zero).
    public init(state: [UInt64]) {
        precondition(state.count == 4 && state.contains { $0 != 0 }, "invalid generator state")
        (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3])
    }

    /// Next 64 random bits.
    @inlinable @inline(__always) public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// Uniform in [0, 1) with 24 bits of precision.
    public mutating func nextFloat() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform in [0, 1) with 53 bits of precision.
    public mutating func nextDouble() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }

    /// Uniform integer in `0..<bound` (Lemire's unbiased method).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next(upperBound: UInt64(bound)))
    }

    /// Standard normal draws (Box–Muller), written pairwise into `out`.
    public mutating func fillNormal(_ out: UnsafeMutablePointer<Float>, _ n: Int, mean: Float = 0, std: Float = 1) {
        var i = 0
        while i < n {
            let u1 = max(nextDouble(), 1e-300), u2 = nextDouble()
            let (c, s) = BoxMuller.pair(u1, u2)
            out[i] = mean + std * Float(c)
            if i + 1 < n { out[i + 1] = mean + std * Float(s) }
            i += 2
        }
    }

    /// Uniform draws in [low, high).
    public mutating func fillUniform(_ out: UnsafeMutablePointer<Float>, _ n: Int, low: Float = 0, high: Float = 1) {
        for i in 0..<n { out[i] = low + (high - low) * nextFloat() }
    }

    /// A random permutation of `0..<n` (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n < 2 { return p }
        for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, nextInt(below: i + 1)) }
        return p
    }
}
