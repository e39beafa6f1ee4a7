// "Nice" axis ticks (1, 2, 5 × 10^k steps) and their labels, for charts whose
// x axis is a training step and whose y axis is a loss, an accuracy or a rate.
import Foundation

/// An axis range rounded outward to whole ticks.
struct AxisTicks: Equatable {
    var lower: Double
    var upper: Double
    var step: Double

    /// The tick values from `lower` to `upper`.
    var values: [Double] {
        let n = Int(((upper - lower) / step).rounded())
        return (0...max(n, 0)).map { lower + Double($0) * step }
    }

    /// About `count` ticks covering `[low, high]`; a zero-width range is widened around its value.
    init(low: Double, high: Double, count: Int = 5) {
        var lo = low, hi = high
        if !(lo.isFinite && hi.isFinite) { lo = 0; hi = 1 }
        if hi < lo { swap(&lo, &hi) }
        if hi == lo {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= pad; hi += pad
        }
        step = Self.niceStep((hi - lo) / Double(max(count, 1)))
        lower = (lo / step).rounded(.down) * step
        upper = (hi / step).rounded(.up) * step
        if upper - lower < step { upper = lower + step }
    }

    /// The smallest 1, 2, 2.5 or 5 × 10^k at or above `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let p = pow(10, (log10(raw)).rounded(.down))
        return [1, 2, 2.5, 5, 10].map { $0 * p }.first { $0 >= raw * 0.9999 } ?? 10 * p
    }

    /// A label precise enough to tell neighbouring ticks apart: `2k`, `1.5M`, `0.25`, `3e-4`.
    func label(_ v: Double) -> String {
        if abs(v) < step * 1e-6 { return "0" }
        let a = max(abs(lower), abs(upper))
        if a >= 1e6 && step >= 1e5 { return Self.trim(v / 1e6, decimals: decimals(step / 1e6)) + "M" }
        if a >= 1e4 && step >= 100 { return Self.trim(v / 1e3, decimals: decimals(step / 1e3)) + "k" }
        if a < 1e-3 { return Self.exponent(v) }
        return Self.trim(v, decimals: decimals(step))
    }

    private func decimals(_ s: Double) -> Int {
        // 2.5 needs one more digit than its power of ten.
        var d = max(0, -Int((log10(s)).rounded(.down)))
        if (s / pow(10, -Double(d))).truncatingRemainder(dividingBy: 1) > 1e-9 { d += 1 }
        return d
    }

    static func trim(_ v: Double, decimals: Int) -> String { String(format: "%.\(decimals)f", v) }

    /// `3e-4`, `2.5e-5`.
    static func exponent(_ v: Double) -> String {
        let e = Int((log10(abs(v))).rounded(.down))
        let m = v / pow(10, Double(e))
        let mantissa = abs(m - m.rounded()) < 1e-9 ? String(Int(m.rounded())) : String(format: "%.2g", m)
        return "\(mantissa)e\(e)"
    }
}
