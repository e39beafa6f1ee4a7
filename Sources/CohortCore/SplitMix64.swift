// The one SplitMix64 of the package: a tiny seeded generator whose streams are
// reproducible run to run and platform to platform (the system generator is
// neither). Bootstrap resamples, search-space draws, the addition corpus and
// `RandomGenerator`'s xoshiro256** seeding all draw from it; `mix` is its output
// function alone, for deriving independent seeds from (seed, stream) pairs.

/// SplitMix64 (Steele, Lea & Flood 2014): a 64-bit state advanced by a Weyl
/// constant and scrambled by a fixed mixer. Deterministic for a given seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose output sequence is fixed by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// SplitMix64's output function (a bijective 64-bit finaliser): good avalanche, so
    /// nearby inputs give unrelated outputs.
    @inlinable public static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform index in 0..<`bound` (`bound` > 0) by multiply-high, which depends on this generator
    /// alone, not on the standard library's algorithm; its bias is below bound / 2⁶⁴.
    public mutating func nextIndex(below bound: Int) -> Int {
        Int(truncatingIfNeeded: UInt64(bound).multipliedFullWidth(by: next()).high)
    }

    /// Uniform in [0, 1) with 53 bits of precision (the top 53 bits of `next()`).
    public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1p-53 }
}
