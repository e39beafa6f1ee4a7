// Vectorised transcendental functions on SIMD16<Float>: range reduction plus
// polynomials, tested against libm (max relative error ~2e-7 for exp, absolute
// ~1e-6 for tanh/sigmoid/erf). Scalar libm calls cost 5–17 ns each here.

package typealias V16 = SIMD16<Float>

/// |x| by clearing the sign bit.
@inline(__always)
package func simdAbs(_ x: V16) -> V16 {
    unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & SIMD16<UInt32>(repeating: 0x7fff_ffff), to: V16.self)
}

/// Lane-wise maximum that propagates NaN from either side. A select, not the
/// standard library's generic `pointwiseMax`, which runs lane by lane here.
@inline(__always)
package func simdMax(_ a: V16, _ b: V16) -> V16 { a.replacing(with: b, where: (b .> a) .| (b .!= b)) }

/// Lane-wise minimum that propagates NaN from either side.
@inline(__always)
package func simdMin(_ a: V16, _ b: V16) -> V16 { a.replacing(with: b, where: (b .< a) .| (b .!= b)) }

@inline(__always)
func loadF16(_ p: UnsafePointer<Float>) -> V16 { UnsafeRawPointer(p).loadUnaligned(as: V16.self) }

@inline(__always)
func storeF16(_ v: V16, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V16.self) }

/// The shared core of `simdExp` and its specialisations: for x already clamped to
/// about ±104, e^x = y · 2^n with y = e^r (|r| ≤ ln2/2, a degree-6 polynomial) and
/// n = round(x·log2 e) returned as integers.
@inline(__always)
func expReduced(_ x: V16) -> (y: V16, n: SIMD16<Int32>) {
    // Round x·log2(e) to the nearest integer with the 1.5·2^23 trick: the integer
    // lands in the low mantissa bits, so no float→int conversion is needed.
    let magic = V16(repeating: 12_582_912)
    let j = x * 1.44269504088896341 + magic
    let n = j - magic
    var r = x - n * 0.693359375
    r = r + n * 2.12194440e-4
    var p = V16(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    let y = p * (r * r) + r + 1
    let n32 = unsafeBitCast(unsafeBitCast(j, to: SIMD16<UInt32>.self) &- SIMD16<UInt32>(repeating: 0x4B40_0000),
                            to: SIMD16<Int32>.self)
    return (y, n32)
}

/// e^x for 16 lanes (Cephes-style: x = n ln2 + r, degree-6 polynomial in r).
/// Overflows to +inf, underflows through the subnormals to 0, and propagates NaN, like expf.
@inline(__always)
package func simdExp(_ x0: V16) -> V16 {
    // The clamp only bounds n (to -150…129); results there are already 0 or inf. Selects,
    // not `clamped`: the stdlib's generic clamp runs lane by lane (~13 ns/element).
    let lo = V16(repeating: -104), hi = V16(repeating: 89.5)
    let x = x0.replacing(with: lo, where: x0 .< lo).replacing(with: hi, where: x0 .> hi)
    let (y, n32) = expReduced(x)
    let h = n32 &>> SIMD16<Int32>(repeating: 1)
    func pow2(_ k: SIMD16<Int32>) -> V16 {
        unsafeBitCast((k &+ SIMD16<Int32>(repeating: 127)) &<< SIMD16<Int32>(repeating: 23), to: V16.self)
    }
    return (y * pow2(h) * pow2(n32 &- h)).replacing(with: x0, where: x0 .!= x0)
}

/// Logistic sigmoid 1 / (1 + e^-x).
@inline(__always)
package func simdSigmoid(_ x: V16) -> V16 { 1 / (1 + simdExp(-x)) }

/// tanh(x) = 1 - 2 / (e^{2x} + 1), with a polynomial near 0 to keep relative accuracy.
@inline(__always)
package func simdTanh(_ x: V16) -> V16 {
    let big = 1 - 2 / (simdExp(2 * x) + 1)
    let x2 = x * x
    // tanh x ≈ x - x^3/3 + 2x^5/15 - 17x^7/315 for |x| < 0.0625
    let small = x * (1 + x2 * (-0.333333333 + x2 * (0.133333333 - x2 * 0.0539682540)))
    let mask = simdAbs(x) .< V16(repeating: 0.0625)
    return big.replacing(with: small, where: mask)
}

/// erf(x), Abramowitz–Stegun 7.1.26 refined (|error| < 1.5e-7).
@inline(__always)
package func simdErf(_ x: V16) -> V16 {
    let a = simdAbs(x)
    let t = 1 / (1 + 0.3275911 * a)
    var p = V16(repeating: 1.061405429)
    p = p * t - 1.453152027
    p = p * t + 1.421413741
    p = p * t - 0.284496736
    p = p * t + 0.254829592
    let y = 1 - p * t * simdExp(-a * a)
    return y.replacing(with: -y, where: x .< V16(repeating: 0))
}

/// Scalar versions for loop tails, sharing the vector code so results match lane for lane.
@inline(__always) package func scalarVia16(_ x: Float, _ f: (V16) -> V16) -> Float { f(V16(repeating: x))[0] }
