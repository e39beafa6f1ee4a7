// NumPy's default random stream, reproduced bit for bit: `SeedSequence` (entropy
// mixing into a 4-word pool), `PCG64` (128-bit LCG, XSL-RR output, NumPy's
// seeding) and `Generator.uniform`'s 53-bit doubles. Gymnasium's environments draw
// their initial states from `np.random.Generator(PCG64(SeedSequence(seed)))`, so
// `reset(seed:)` here starts exactly where Gymnasium's does.
import CohortCore

/// NumPy's `SeedSequence` for a non-negative integer seed and no spawn key: mixes the
/// seed's 32-bit words into a pool of four 32-bit words and hashes them out as state.
public struct SeedSequence: Sendable {
    private static let initA: UInt32 = 0x43b0_d7e5, multA: UInt32 = 0x931e_8875
    private static let initB: UInt32 = 0x8b51_f9dd, multB: UInt32 = 0x58f3_8ded
    private static let mixMultL: UInt32 = 0xca01_f9dd, mixMultR: UInt32 = 0x4973_f715
    /// The mixed entropy pool (NumPy's `pool`, pool size 4).
    public private(set) var pool: [UInt32] = [0, 0, 0, 0]

    /// The sequence NumPy builds from `SeedSequence(seed)`.
    public init(seed: UInt64) {
        // NumPy splits an integer into little-endian 32-bit words; 0 is one word [0].
        var entropy: [UInt32] = [UInt32(truncatingIfNeeded: seed)]
        if seed >> 32 != 0 { entropy.append(UInt32(truncatingIfNeeded: seed >> 32)) }
        var hashConst = Self.initA
        func hashmix(_ v: UInt32) -> UInt32 {
            var value = v ^ hashConst
            hashConst = hashConst &* Self.multA
            value = value &* hashConst
            return value ^ (value >> 16)
        }
        func mix(_ x: UInt32, _ y: UInt32) -> UInt32 {
            let r = Self.mixMultL &* x &- Self.mixMultR &* y
            return r ^ (r >> 16)
        }
        for i in 0..<4 { pool[i] = hashmix(i < entropy.count ? entropy[i] : 0) }
        for src in 0..<4 { for dst in 0..<4 where src != dst { pool[dst] = mix(pool[dst], hashmix(pool[src])) } }
        for src in 4..<max(4, entropy.count) { for dst in 0..<4 { pool[dst] = mix(pool[dst], hashmix(entropy[src])) } }
    }

    /// `generate_state(words, np.uint64)`: `words` 64-bit words (two 32-bit words each, little-endian).
    public func generateState(words: Int) -> [UInt64] {
        var hashConst = Self.initB
        var out32: [UInt32] = []
        out32.reserveCapacity(2 * words)
        for i in 0..<(2 * words) {
            var v = pool[i % 4] ^ hashConst
            hashConst = hashConst &* Self.multB
            v = v &* hashConst
            out32.append(v ^ (v >> 16))
        }
        return (0..<words).map { UInt64(out32[2 * $0]) | UInt64(out32[2 * $0 + 1]) << 32 }
    }
}

/// NumPy's `PCG64` bit generator (PCG XSL-RR 128/64, NumPy 1.17+'s default) with NumPy's
/// seeding and its `Generator.uniform`/`random` doubles. `state` (4 words) is exported and
/// restored exactly for checkpoints.
public struct PCG64: Sendable, Equatable {
    private static let multHigh: UInt64 = 0x2360_ED05_1FC6_5DA4, multLow: UInt64 = 0x4385_DF64_9FCC_F645
    private var stateHigh: UInt64 = 0, stateLow: UInt64 = 0
    private var incHigh: UInt64 = 0, incLow: UInt64 = 0

    /// `np.random.default_rng(seed)`'s bit generator (what Gymnasium's `np_random(seed)` builds).
    public init(seed: UInt64) {
        let v = SeedSequence(seed: seed).generateState(words: 4)
        // pcg64_set_seed: state = v[0]<<64 | v[1], sequence = v[2]<<64 | v[3]; inc = sequence<<1 | 1.
        incHigh = (v[2] << 1) | (v[3] >> 63)
        incLow = (v[3] << 1) | 1
        step()
        let (low, carry) = stateLow.addingReportingOverflow(v[1])
        stateLow = low
        stateHigh = stateHigh &+ v[0] &+ (carry ? 1 : 0)
        step()
    }

    /// The generator's full state: state high/low and increment high/low.
    public var words: [UInt64] { [stateHigh, stateLow, incHigh, incLow] }

    /// Restores a state exported by `words`.
    /// - Throws: `CohortError.invalidArgument` unless there are 4 words and the increment is odd.
    public init(words w: [UInt64]) throws {
        guard w.count == 4, w[3] & 1 == 1 else {
            throw CohortError.invalidArgument("PCG64 state needs 4 words with an odd increment, got \(w.count) word(s)")
        }
        (stateHigh, stateLow, incHigh, incLow) = (w[0], w[1], w[2], w[3])
    }

    @inline(__always) private mutating func step() {
        // state = state * MULT + inc (mod 2^128)
        let (hi, lo) = stateLow.multipliedFullWidth(by: Self.multLow)
        var high = hi &+ stateHigh &* Self.multLow &+ stateLow &* Self.multHigh
        let (newLow, carry) = lo.addingReportingOverflow(incLow)
        high = high &+ incHigh &+ (carry ? 1 : 0)
        stateHigh = high
        stateLow = newLow
    }

    /// The next 64 bits (NumPy's `pcg64_next64`: advance, then XSL-RR of the new state).
    @inline(__always) public mutating func next() -> UInt64 {
        step()
        let x = stateHigh ^ stateLow
        let rot = stateHigh >> 58
        return (x >> rot) | (x << ((64 &- rot) & 63))
    }

    /// `Generator.random()`: uniform in [0, 1) from the top 53 bits.
    @inline(__always) public mutating func nextDouble() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }

    /// `Generator.uniform(low, high)`: `low + (high - low) * random()`.
    @inline(__always) public mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * nextDouble() }
}
