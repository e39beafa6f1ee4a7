// The per-sample image operations behind Augmentation, on one contiguous
// C×H×W sample in place (crop and affine read a copy in `scratch`), and the
// Gaussian noise source: xoshiro256** (RandomGenerator's stream, kept in
// registers) with Marsaglia and Tsang's ziggurat, about one draw per normal.
import CohortTensor
#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif

/// The geometry of one sample and the operations on it.
struct AugmentationImage {
    let channels: Int, height: Int, width: Int
    var plane: Int { height * width }
    var count: Int { channels * plane }

    /// Floats of scratch memory `apply` needs: the sample with a 1 + 2 pixel border (see `warp`).
    var scratchCount: Int { channels * (height + 3) * (width + 3) }

    /// Applies transform `t` with its draw `d` to the sample at `x` (`scratch` holds `scratchCount` floats).
    func apply(_ t: AugmentationTransform, _ d: AugmentationDraw,
               to x: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        switch (t, d) {
        case let (.crop(p), .crop(top, left)):
            scratch.update(from: x, count: count)
            shift(scratch, into: x, rows: top - p, columns: left - p)
        case let (_, .horizontalFlip(on)): if on { flipColumns(x) }
        case let (_, .verticalFlip(on)): if on { flipRows(x) }
        case let (_, .affine(degrees, scale, dx, dy)):
            warp(x, scratch: scratch, degrees: degrees, scale: scale, dx: dx, dy: dy)
        case let (.noise(std), .noise(seed)): addNoise(x, std: std, seed: seed)
        case let (.cutout(s), .cutout(row, column)): zeroSquare(x, size: s, row: row, column: column)
        default: preconditionFailure("draw \(d) for transform \(t) (checked by Augmentation.apply)")
        }
    }

    /// `dst[c, y, x] = src[c, y + rows, x + columns]`, zero where that is outside the image.
    func shift(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        let x0 = max(0, -columns), x1 = min(width, width - columns)   // columns whose source is inside
        for c in 0..<channels {
            for y in 0..<height {
                let out = dst + c * plane + y * width, sy = y + rows
                guard sy >= 0, sy < height, x1 > x0 else { out.update(repeating: 0, count: width); continue }
                out.update(repeating: 0, count: x0)
                (out + x0).update(from: src + c * plane + sy * width + x0 + columns, count: x1 - x0)
                (out + x1).update(repeating: 0, count: width - x1)
            }
        }
    }

    func flipColumns(_ x: UnsafeMutablePointer<Float>) {
        for r in 0..<(channels * height) {
            var row = UnsafeMutableBufferPointer(start: x + r * width, count: width)
            row.reverse()
        }
    }

    func flipRows(_ x: UnsafeMutablePointer<Float>) {
        for c in 0..<channels {
            let p = x + c * plane
            for y in 0..<(height / 2) {
                let a = p + y * width, b = p + (height - 1 - y) * width
                for i in 0..<width { let t = a[i]; a[i] = b[i]; b[i] = t }
            }
        }
    }

    /// Inverse-maps every output pixel of `x` through the rotation/scale/shift about the image centre
    /// and samples the original bilinearly; taps outside the image count as 0. The original goes to
    /// `scratch` with a zero border (1 before, 2 after each axis): source coordinates clamped to
    /// [−1, W] × [−1, H] then have all four taps inside the buffer, and the loop needs no branches.
    func warp(_ x: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
              degrees: Double, scale: Double, dx: Double, dy: Double) {
        let w = width, h = height, plane = self.plane
        let pw = w + 3, pplane = (h + 3) * pw
        scratch.update(repeating: 0, count: channels * pplane)
        for c in 0..<channels {
            for y in 0..<h { (scratch + c * pplane + (y + 1) * pw + 1).update(from: x + c * plane + y * w, count: w) }
        }
        let rad = degrees * Double.pi / 180
        let cs = cos(rad) / scale, sn = sin(rad) / scale
        let cx = Double(w - 1) / 2, cy = Double(h - 1) / 2
        // Source = centre + R(−θ)·(output − centre − shift) / scale, with y pointing down.
        let ox = cx + dx, oy = cy + dy
        let ax = Float(cs), bx = Float(-sn), ay = Float(sn), by = Float(cs)
        let fw = Float(w), fh = Float(h)
        for y in 0..<h {
            let rowX = Float(cx - cs * ox + sn * oy) + bx * Float(y)
            let rowY = Float(cy - sn * ox - cs * oy) + by * Float(y)
            for xo in 0..<w {
                // Padded coordinates in [0, W + 1] × [0, H + 1]; a clamped pixel samples only zeros.
                var sx = ax * Float(xo) + rowX, sy = ay * Float(xo) + rowY
                sx = (sx < -1 ? -1 : sx > fw ? fw : sx) + 1
                sy = (sy < -1 ? -1 : sy > fh ? fh : sy) + 1
                let (x0, fx) = floorSplit(sx), (y0, fy) = floorSplit(sy)
                let w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy
                var p = UnsafePointer(scratch + (y0 &* pw &+ x0)), q = x + (y &* w &+ xo)
                for _ in 0..<channels {
                    q.pointee = w00 * p[0] + w01 * p[1] + w10 * p[pw] + w11 * p[pw &+ 1]
                    p += pplane; q += plane
                }
            }
        }
    }

    /// ⌊v⌋ and v − ⌊v⌋ for 0 ≤ v < 2^22 without a trapping conversion: adding 2^23 rounds v to the
    /// nearest integer in the low mantissa bits (exact), corrected by one when that rounded up.
    @inline(__always) private func floorSplit(_ v: Float) -> (Int, Float) {
        let magic: Float = 0x1p23
        let shifted = v + magic
        var n = Int(shifted.bitPattern & 0x7F_FFFF)
        var r = shifted - magic
        if r > v { r -= 1; n &-= 1 }
        return (n, v - r)
    }

    func addNoise(_ x: UnsafeMutablePointer<Float>, std: Float, seed: UInt64) {
        var g = NormalStream(seed: seed)
        let table = Ziggurat.shared
        for i in 0..<count { x[i] += std * Float(g.normal(table)) }
    }

    /// Zeroes rows `row − S/2 ..< row − S/2 + S` × the same columns around `column`, clipped, in every channel.
    func zeroSquare(_ x: UnsafeMutablePointer<Float>, size: Int, row: Int, column: Int) {
        let r0 = max(0, row - size / 2), r1 = min(height, row - size / 2 + size)
        let c0 = max(0, column - size / 2), c1 = min(width, column - size / 2 + size)
        guard r1 > r0, c1 > c0 else { return }
        for c in 0..<channels {
            for r in r0..<r1 { (x + c * plane + r * width + c0).update(repeating: 0, count: c1 - c0) }
        }
    }
}

/// Standard normals by the ziggurat from a `RandomGenerator` stream: per-pixel noise draws one
/// normal per element, and the ziggurat needs no logarithm or cosine for most draws.
struct NormalStream {
    private var generator: RandomGenerator

    init(seed: UInt64) { generator = RandomGenerator(seed: seed) }

    @inline(__always) mutating func next() -> UInt64 { generator.next() }

    /// Uniform in (0, 1], never 0 (its logarithm is taken).
    @inline(__always) mutating func positiveUniform() -> Double { Double((next() >> 11) + 1) * 0x1p-53 }

    /// A standard normal draw (ziggurat: 128 layers; sign and magnitude from the high 32 bits, the
    /// layer from the low 7, so they are independent).
    @inline(__always) mutating func normal(_ z: Ziggurat) -> Double {
        let u = next()
        let hz = Int32(truncatingIfNeeded: u >> 32), iz = Int(u & 127)
        if UInt64(Int64(hz).magnitude) < z.k[iz] { return Double(hz) * z.w[iz] }
        return normalSlow(z, hz, iz)
    }

    /// The wedges and the tail beyond r (Marsaglia and Tsang's `nfix`).
    private mutating func normalSlow(_ z: Ziggurat, _ hz0: Int32, _ iz0: Int) -> Double {
        var hz = hz0, iz = iz0
        while true {
            let x = Double(hz) * z.w[iz]
            if iz == 0 {
                var t: Double, y: Double
                repeat {
                    t = -log(positiveUniform()) / Ziggurat.r
                    y = -log(positiveUniform())
                } while y + y < t * t
                return hz > 0 ? Ziggurat.r + t : -Ziggurat.r - t
            }
            if z.f[iz] + positiveUniform() * (z.f[iz - 1] - z.f[iz]) < exp(-0.5 * x * x) { return x }
            let u = next()
            hz = Int32(truncatingIfNeeded: u >> 32); iz = Int(u & 127)
            if UInt64(Int64(hz).magnitude) < z.k[iz] { return Double(hz) * z.w[iz] }
        }
    }
}

/// The ziggurat tables for the standard normal with 128 layers (Marsaglia & Tsang 2000, `zigset`).
struct Ziggurat: Sendable {
    static let shared = Ziggurat()
    /// Start of the tail.
    static let r = 3.442619855899
    /// Acceptance thresholds on |hz| (scaled by 2^31), widths per unit of hz, and f(x) at layer edges.
    let k: [UInt64], w: [Double], f: [Double]

    private init() {
        let m1 = 2_147_483_648.0, v = 9.91256303526217e-3
        var k = [UInt64](repeating: 0, count: 128), w = [Double](repeating: 0, count: 128), f = w
        var dn = Ziggurat.r, tn = dn
        let q = v / exp(-0.5 * dn * dn)
        k[0] = UInt64(dn / q * m1); k[1] = 0
        w[0] = q / m1; w[127] = dn / m1
        f[0] = 1; f[127] = exp(-0.5 * dn * dn)
        for i in stride(from: 126, through: 1, by: -1) {
            dn = (-2 * log(v / dn + exp(-0.5 * dn * dn))).squareRoot()
            k[i + 1] = UInt64(dn / tn * m1)
            tn = dn
            f[i] = exp(-0.5 * dn * dn)
            w[i] = dn / m1
        }
        (self.k, self.w, self.f) = (k, w, f)
    }
}
