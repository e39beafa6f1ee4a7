// HalfPrecision (CHalfKernels): binary16 against Swift's own Float16 conversions (IEEE,
// round to nearest even) on every word and on floats of every magnitude, for the
// selected (F16C where present) and the portable paths; bfloat16 against the nearest
// neighbour computed in Double; sums, averages, scales and error feedback by hand.
import CohortCore
import Testing
@testable import CohortKernels

@Suite struct HalfPrecisionTests {
    /// Floats of every binade from 2^-30 to 2^18 (subnormal to overflowing binary16), both signs,
    /// plus the edge cases around binary16's largest value and the specials.
    static let samples: [Float] = {
        var rng = SplitMix64(seed: 11)
        var out: [Float] = [0, -0, .infinity, -.infinity, .nan, 65504, 65519.99, 65520, 65536, -65520, 0x1p-14, 0x1p-24,
                            0x1p-25, 0x1.8p-25, 0x1p-26, Float.leastNonzeroMagnitude, Float.greatestFiniteMagnitude,
                            1.00390625, 1.01171875, 3.4e38, -3.4e38]
        for e in -30...18 {
            for _ in 0..<400 {
                let mantissa = 1 + Float(rng.next() % (1 << 23)) / Float(1 << 23)
                out.append((rng.next() & 1 == 0 ? 1 : -1) * mantissa * Float(sign: .plus, exponent: e, significand: 1))
            }
        }
        return out
    }()

    func same(_ a: Float, _ b: Float) -> Bool { a.isNaN ? b.isNaN : a.bitPattern == b.bitPattern }

    @Test func binary16EncodingMatchesSwiftFloat16() {
        let xs = Self.samples
        var selected = [UInt16](repeating: 0, count: xs.count), portable = selected
        HalfPrecision.encode(.fp16, xs, &selected, count: xs.count)
        HalfPrecision.encodePortable(.fp16, xs, &portable, count: xs.count)
        for (i, x) in xs.enumerated() {
            let reference = Float16(x)
            let ok = x.isNaN ? Float16(bitPattern: selected[i]).isNaN && Float16(bitPattern: portable[i]).isNaN
                             : selected[i] == reference.bitPattern && portable[i] == reference.bitPattern
            #expect(ok, "\(x): selected \(selected[i]), portable \(portable[i]), Float16 \(reference.bitPattern)")
            if !ok { return }
            #expect(HalfPrecision.word(x, .fp16) == portable[i] || x.isNaN)
        }
    }

    @Test func everyWordDecodesAsSwiftFloat16Does() {
        let words = (0...UInt16.max).map { $0 }
        var selected = [Float](repeating: 0, count: words.count), portable = selected
        HalfPrecision.decode(.fp16, words, &selected, count: words.count)
        HalfPrecision.decodePortable(.fp16, words, &portable, count: words.count)
        for w in words {
            let reference = Float(Float16(bitPattern: w))
            #expect(same(selected[Int(w)], reference) && same(portable[Int(w)], reference), "word \(w)")
            #expect(same(HalfPrecision.value(w, .bf16), Float(bitPattern: UInt32(w) << 16)))
        }
    }

    @Test func bfloat16RoundsToTheNearestEvenNeighbour() {
        #expect(HalfPrecision.round(1.00390625, .bf16) == 1)          // 1 + 2^-8: a tie, to the even 1.0
        #expect(HalfPrecision.round(1.01171875, .bf16) == 1.015625)   // 1 + 3·2^-8: a tie, to the even 1 + 2^-6
        #expect(HalfPrecision.round(3.4e38, .bf16) == .infinity)
        #expect(HalfPrecision.round(.nan, .bf16).isNaN)
        for x in Self.samples where x.isFinite && x != 0 && Swift.abs(x) < 3e38 {
            let w = HalfPrecision.word(x, .bf16)
            let got = Double(HalfPrecision.value(w, .bf16))
            let below = Double(Float(bitPattern: x.bitPattern & 0xFFFF_0000))
            let above = Double(Float(bitPattern: (x.bitPattern & 0xFFFF_0000) &+ 0x1_0000))
            let (dBelow, dAbove) = (Swift.abs(Double(x) - below), Swift.abs(above - Double(x)))
            let expected = dBelow < dAbove ? below : dAbove < dBelow ? above : ((x.bitPattern >> 16) & 1 == 0 ? below : above)
            #expect(got == expected, "\(x): got \(got), expected \(expected)")
            if got != expected { return }
        }
    }

    @Test func scalesSumsAndAverages() {
        let xs: [Float] = [0.5, -1.25, 3, 1e-3]
        for format in [HalfFormat.bf16, .fp16] {
            var words = [UInt16](repeating: 0, count: 4), back = [Float](repeating: 0, count: 4)
            HalfPrecision.encode(format, xs, &words, count: 4, scale: 8)
            HalfPrecision.decode(format, words, &back, count: 4, scale: 0.125)
            for i in 0..<4 { #expect(back[i] == HalfPrecision.round(xs[i] * 8, format) * 0.125, "\(format) scale") }
            // A sum step rounds a + b once.
            var acc = xs.map { HalfPrecision.word($0, format) }
            let input = [Float](repeating: 0.25, count: 4).map { HalfPrecision.word($0, format) }
            HalfPrecision.sum(format, input, into: &acc, count: 4)
            for i in 0..<4 {
                let a = HalfPrecision.round(xs[i], format)
                #expect(HalfPrecision.value(acc[i], format) == HalfPrecision.round(a + 0.25, format), "\(format) sum")
            }
            // The average sums in float32 and rounds once, into every buffer.
            let p = 3, n = 1100
            let buffers = (0..<p).map { q in
                let b = UnsafeMutablePointer<UInt16>.allocate(capacity: n)
                for i in 0..<n { b[i] = HalfPrecision.word(Float(q + 1) * 0.1 + Float(i) * 1e-3, format) }
                return b
            }
            defer { buffers.forEach { $0.deallocate() } }
            let inputs = buffers.map { b in (0..<n).map { HalfPrecision.value(b[$0], format) } }
            HalfPrecision.average(format, buffers, offset: 7, count: 1000, factor: 1.0 / 3)
            for i in 0..<n {
                let inside = (7..<1007).contains(i)
                let expected = inside ? HalfPrecision.round((inputs[0][i] + inputs[1][i] + inputs[2][i]) * (1.0 / 3), format) : inputs[0][i]
                #expect(HalfPrecision.value(buffers[0][i], format) == expected && buffers[2][i] == buffers[0][i] || !inside, "\(format) average at \(i)")
            }
            #expect(HalfPrecision.countNonFinite(format, [HalfPrecision.word(.infinity, format), HalfPrecision.word(.nan, format), 0], count: 3) == 2)
        }
    }

    @Test func errorFeedbackKeepsWhatRoundingDropped() {
        let g: [Float] = [1.001, -0.3333, 1e-4, 70000]
        var residual = [Float](repeating: 0, count: 4), words = [UInt16](repeating: 0, count: 4)
        for format in [HalfFormat.bf16, .fp16] {
            residual = [0, 0, 0, 0]
            HalfPrecision.encode(format, g, residual: &residual, &words, count: 4, scale: 1)
            for i in 0..<3 { #expect(HalfPrecision.value(words[i], format) + residual[i] == g[i], "\(format) \(g[i])") }
            // 70000 overflows binary16: no residual is kept for an infinite word.
            #expect(format == .bf16 || (HalfPrecision.value(words[3], format).isInfinite && residual[3] == 0))
            // The next step adds the residual back.
            let before = residual
            HalfPrecision.encode(format, [0, 0, 0, 0], residual: &residual, &words, count: 4, scale: 1)
            for i in 0..<3 { #expect(HalfPrecision.value(words[i], format) + residual[i] == before[i]) }
        }
    }
}
