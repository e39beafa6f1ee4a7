// Augmentation against independently computed values: padded crops as shifted
// windows, exact flips, affine identity / rotation / shift / scale, noise
// statistics, cutout squares, per-sample determinism whatever the batch, and the
// spec's error messages.
import CohortCore
@testable import CohortData
import CohortTensor
import Foundation
import Testing

@Suite struct AugmentationTests {
    /// `count` samples of `shape` with distinct non-zero values (sample i, element j → 1 + i·1000 + j).
    func batch(_ count: Int, _ shape: [Int]) throws -> Tensor {
        let n = shape.reduce(1, *)
        return try Tensor((0..<count * n).map { Float(1 + ($0 / n) * 1000 + $0 % n) }, shape: [count] + shape)
    }

    /// Sample `i` of `t` as a flat array.
    func sample(_ t: Tensor, _ i: Int) -> [Float] {
        let n = t.count / t.shape[0]
        return Array(t.scalars[i * n..<(i + 1) * n])
    }

    /// The description of the CohortError that `body` throws (nil if none).
    func message(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch { return (error as? CohortError)?.description ?? "not a CohortError: \(error)" }
    }

    @Test func cropIsTheShiftedWindowOfTheZeroPaddedImage() throws {
        let (c, h, w, p) = (2, 5, 6, 2)
        let aug = try Augmentation(spec: "crop:\(p)", sampleShape: [c, h, w])
        let x = try batch(40, [c, h, w])
        let ids = Array(100..<140)
        let y = try aug.apply(x, sampleIDs: ids, step: 7, seed: 3)
        var tops = Set<Int>(), lefts = Set<Int>()
        for (i, id) in ids.enumerated() {
            guard case let .crop(top, left) = aug.parameters(for: id, step: 7, seed: 3)[0] else { Issue.record("not a crop draw"); return }
            tops.insert(top); lefts.insert(left)
            // numpy: np.pad(img, ((0,0),(p,p),(p,p)))[:, top:top+h, left:left+w]
            let img = sample(x, i)
            var padded = [Float](repeating: 0, count: c * (h + 2 * p) * (w + 2 * p))
            for ch in 0..<c { for r in 0..<h { for col in 0..<w {
                padded[(ch * (h + 2 * p) + r + p) * (w + 2 * p) + col + p] = img[(ch * h + r) * w + col]
            } } }
            var expected: [Float] = []
            for ch in 0..<c { for r in 0..<h { for col in 0..<w {
                expected.append(padded[(ch * (h + 2 * p) + r + top) * (w + 2 * p) + col + left])
            } } }
            #expect(sample(y, i) == expected, "sample \(id), window at (\(top), \(left))")
        }
        #expect(tops == Set(0...4) && lefts == Set(0...4))
        // A known offset, pixel by pixel: window at (0, 4) = shifted 2 rows down and 2 columns left.
        let one = try aug.apply(try batch(1, [c, h, w]), draws: [[.crop(top: 0, left: 4)]])
        let v = one.scalars, src = sample(try batch(1, [c, h, w]), 0)
        for ch in 0..<c { for r in 0..<h { for col in 0..<w {
            let inside = r >= 2 && col < w - 2
            #expect(v[(ch * h + r) * w + col] == (inside ? src[(ch * h + r - 2) * w + col + 2] : 0))
        } } }
        #expect(x.scalars == (try batch(40, [c, h, w])).scalars, "the input batch is left unchanged")
    }

    @Test func flipsReverseColumnsOrRowsExactly() throws {
        let (c, h, w) = (3, 4, 5)
        let x = try batch(2, [c, h, w])
        let y = try Augmentation(spec: "hflip:1", sampleShape: [c, h, w]).apply(x, sampleIDs: [0, 1], step: 0, seed: 0)
        let z = try Augmentation(spec: "vflip:1", sampleShape: [c, h, w]).apply(x, sampleIDs: [0, 1], step: 0, seed: 0)
        for i in 0..<2 {
            let s = sample(x, i), a = sample(y, i), b = sample(z, i)
            for ch in 0..<c { for r in 0..<h { for col in 0..<w {
                #expect(a[(ch * h + r) * w + col] == s[(ch * h + r) * w + w - 1 - col])
                #expect(b[(ch * h + r) * w + col] == s[(ch * h + h - 1 - r) * w + col])
            } } }
        }
        // [H, W] samples count as one channel; p = 0 never flips; the default p = 0.5 flips about half.
        let m = try Tensor([1, 2, 3, 4, 5, 6], shape: [1, 2, 3])
        #expect(try Augmentation(spec: "hflip:1", sampleShape: [2, 3]).apply(m, sampleIDs: [9], step: 1, seed: 1).scalars == [3, 2, 1, 6, 5, 4])
        #expect(try Augmentation(spec: "hflip:0", sampleShape: [2, 3]).apply(m, sampleIDs: [9], step: 1, seed: 1).scalars == m.scalars)
        let half = try Augmentation(spec: "hflip", sampleShape: [2, 3])
        let flipped = (0..<4000).filter { half.parameters(for: $0, step: 3, seed: 5) == [.horizontalFlip(true)] }.count
        #expect(abs(flipped - 2000) < 160, "\(flipped) of 4000 flipped (5 sigma = 158)")
    }

    @Test func affineWithNothingDrawnIsTheIdentity() throws {
        let aug = try Augmentation(spec: "affine:0:0:0", sampleShape: [3, 7, 9])
        let x = try batch(5, [3, 7, 9])
        #expect(try aug.apply(x, sampleIDs: Array(0..<5), step: 11, seed: 2).scalars == x.scalars)
    }

    @Test func affineRotatesShiftsAndScalesAboutTheCentre() throws {
        let n = 8
        let aug = try Augmentation(spec: "affine:90:0.5:0.5", sampleShape: [1, n, n])
        var g = RandomGenerator(seed: 4)
        let img = Tensor.rand([1, 1, n, n], generator: &g)
        let v = img.scalars
        // 90° counter-clockwise (as displayed) is numpy's rot90: out[y, x] = in[x, n − 1 − y].
        let rotated = try aug.apply(img, draws: [[.affine(degrees: 90, scale: 1, dx: 0, dy: 0)]]).scalars
        for y in 1..<(n - 1) { for x in 1..<(n - 1) {
            #expect(abs(rotated[y * n + x] - v[x * n + n - 1 - y]) < 1e-5, "pixel (\(y), \(x))")
        } }
        // A shift by (dx, dy) = (2, −1): out[y, x] = in[y + 1, x − 2], zero where that is outside.
        let shifted = try aug.apply(img, draws: [[.affine(degrees: 0, scale: 1, dx: 2, dy: -1)]]).scalars
        for y in 0..<n { for x in 0..<n {
            let inside = y + 1 < n && x >= 2
            #expect(shifted[y * n + x] == (inside ? v[(y + 1) * n + x - 2] : 0), "pixel (\(y), \(x))")
        } }
        // Scale 2 about the centre c = 3.5: out[y, x] = in at c + (p − c) / 2, so output pixel (1, 1)
        // interpolates bilinearly at (2.25, 2.25) between rows and columns 2 and 3.
        let zoomed = try aug.apply(img, draws: [[.affine(degrees: 0, scale: 2, dx: 0, dy: 0)]]).scalars
        let sy = 3.5 + (1 - 3.5) / 2.0, sx = sy   // 2.25
        let (y0, x0, f) = (Int(sy), Int(sx), Float(sy - 2))
        let expected = (1 - f) * (1 - f) * v[y0 * n + x0] + f * (1 - f) * (v[y0 * n + x0 + 1] + v[(y0 + 1) * n + x0]) + f * f * v[(y0 + 1) * n + x0 + 1]
        #expect(abs(zoomed[1 * n + 1] - expected) < 1e-5)
        // Drawn parameters stay within their ranges.
        for id in 0..<200 {
            guard case let .affine(deg, s, dx, dy) = aug.parameters(for: id, step: 0, seed: 0)[0] else { Issue.record("not affine"); return }
            #expect(abs(deg) <= 90 && s >= 0.5 && s <= 1.5 && abs(dx) <= 4 && abs(dy) <= 4)
        }
    }

    @Test func affineMatchesANaiveBilinearWarp() throws {
        let (c, h, w) = (3, 9, 11)
        let aug = try Augmentation(spec: "affine:30:0.2:0.2", sampleShape: [c, h, w])
        var g = RandomGenerator(seed: 8)
        let x = Tensor.rand([16, c, h, w], generator: &g)
        let ids = Array(0..<16)
        let y = try aug.apply(x, sampleIDs: ids, step: 4, seed: 6)
        for (i, id) in ids.enumerated() {
            guard case let .affine(deg, s, dx, dy) = aug.parameters(for: id, step: 4, seed: 6)[0] else { Issue.record("not affine"); return }
            let src = sample(x, i), out = sample(y, i)
            let t = deg * Double.pi / 180, (cx, cy) = (Double(w - 1) / 2, Double(h - 1) / 2)
            func at(_ ch: Int, _ r: Int, _ col: Int) -> Double {
                (0..<h).contains(r) && (0..<w).contains(col) ? Double(src[(ch * h + r) * w + col]) : 0
            }
            for ch in 0..<c { for r in 0..<h { for col in 0..<w {
                // Inverse of: rotate counter-clockwise by t (y down), scale by s, shift by (dx, dy).
                let u = (Double(col) - cx - dx) / s, v = (Double(r) - cy - dy) / s
                let sx = cx + cos(t) * u - sin(t) * v, sy = cy + sin(t) * u + cos(t) * v
                let (x0, y0) = (Int(sx.rounded(.down)), Int(sy.rounded(.down)))
                let (fx, fy) = (sx - Double(x0), sy - Double(y0))
                let expected = (1 - fx) * (1 - fy) * at(ch, y0, x0) + fx * (1 - fy) * at(ch, y0, x0 + 1)
                    + (1 - fx) * fy * at(ch, y0 + 1, x0) + fx * fy * at(ch, y0 + 1, x0 + 1)
                #expect(abs(Double(out[(ch * h + r) * w + col]) - expected) < 1e-4, "sample \(id) [\(ch), \(r), \(col)]")
            } } }
        }
    }

    @Test func noiseHasTheRequestedMeanAndStandardDeviation() throws {
        let shape = [1, 32, 32], std: Float = 0.5
        let aug = try Augmentation(spec: "noise:\(std)", sampleShape: shape)
        let y = try aug.apply(Tensor.zeros([64] + shape), sampleIDs: Array(0..<64), step: 2, seed: 9).scalars.map(Double.init)
        let n = Double(y.count)   // 65,536
        let mean = y.reduce(0, +) / n
        let sd = (y.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n).squareRoot()
        #expect(abs(mean) < 0.01, "mean \(mean) (5 standard errors: 0.0098)")
        #expect(abs(sd - 0.5) < 0.007, "std \(sd) (5 standard errors: 0.0069)")
        // Gaussian shape: P(|z| > 2) = 0.0455, P(|z| > 3) = 0.0027.
        let beyond2 = Double(y.filter { abs($0) > 1.0 }.count) / n, beyond3 = Double(y.filter { abs($0) > 1.5 }.count) / n
        #expect(abs(beyond2 - 0.0455) < 0.0041 && abs(beyond3 - 0.0027) < 0.001, "tails \(beyond2), \(beyond3)")
        #expect(Array(y[0..<1024]) != Array(y[1024..<2048]), "each sample draws its own noise")
    }

    @Test func normalStreamFollowsRandomGeneratorAndIsGaussian() {
        var g = RandomGenerator(seed: 42), s = NormalStream(seed: 42)
        #expect((0..<16).map { _ in g.next() } == (0..<16).map { _ in s.next() })
        let z = Ziggurat.shared
        let n = 1_000_000
        var sum = 0.0, sq = 0.0, quad = 0.0, tail = 0
        for _ in 0..<n {
            let x = s.normal(z)
            sum += x; sq += x * x; quad += x * x * x * x
            if abs(x) > Ziggurat.r { tail += 1 }
        }
        let mean = sum / Double(n), variance = sq / Double(n) - mean * mean
        #expect(abs(mean) < 0.005 && abs(variance - 1) < 0.0075, "mean \(mean), variance \(variance)")
        #expect(abs(quad / Double(n) - 3) < 0.05, "fourth moment \(quad / Double(n)) (3 for a normal)")
        // Beyond the ziggurat's base, r = 3.4426: 2·(1 − Φ(r)) = 5.76e-4, i.e. 576 ± 24 of a million.
        #expect(abs(tail - 576) < 120, "\(tail) draws beyond r")
    }

    @Test func cutoutZeroesExactlyOneClippedSquare() throws {
        let (c, h, w, s) = (2, 10, 12, 4)
        let aug = try Augmentation(spec: "cutout:\(s)", sampleShape: [c, h, w])
        let x = try batch(30, [c, h, w])
        let ids = Array(0..<30)
        let y = try aug.apply(x, sampleIDs: ids, step: 1, seed: 1)
        var clipped = 0
        for (i, id) in ids.enumerated() {
            guard case let .cutout(row, col) = aug.parameters(for: id, step: 1, seed: 1)[0] else { Issue.record("not cutout"); return }
            let rows = (row - 2)..<(row + 2), cols = (col - 2)..<(col + 2)
            if rows.lowerBound < 0 || rows.upperBound > h || cols.lowerBound < 0 || cols.upperBound > w { clipped += 1 }
            let a = sample(y, i), src = sample(x, i)
            for ch in 0..<c { for r in 0..<h { for cc in 0..<w {
                let k = (ch * h + r) * w + cc
                #expect(a[k] == (rows.contains(r) && cols.contains(cc) ? 0 : src[k]))
            } } }
        }
        #expect(clipped > 0, "some squares reach a border")
        // A corner square keeps only its in-image part: rows 0..<2, columns 9..<12, in both channels.
        let corner = try aug.apply(try batch(1, [c, h, w]), draws: [[.cutout(row: 0, column: 11)]]).scalars
        #expect(corner.filter { $0 == 0 }.count == 2 * 2 * 3 && corner[9] == 0 && corner[8] != 0 && corner[2 * w + 9] != 0)
        // An odd side is centred: S = 3 at (5, 5) covers rows and columns 4...6.
        let odd = try Augmentation(spec: "cutout:3", sampleShape: [h, w])
        let o = try odd.apply(try batch(1, [h, w]), draws: [[.cutout(row: 5, column: 5)]]).scalars
        let zeroed: [Int] = (0..<(h * w)).filter { o[$0] == 0 }
        let square: [Int] = [4, 5, 6].flatMap { (r: Int) -> [Int] in [r * w + 4, r * w + 5, r * w + 6] }
        #expect(zeroed == square)
    }

    @Test func aSampleGetsTheSameAugmentationWhateverTheBatch() throws {
        let spec = "crop:2,hflip,affine:10:0.1:0.1,noise:0.05,cutout:3", shape = [1, 12, 12]
        let aug = try Augmentation(spec: spec, sampleShape: shape)
        let data = try batch(8, shape)
        let ids = [3, 17, 4, 250, 9, 1, 88, 40]
        let whole = try aug.apply(data, sampleIDs: ids, step: 5, seed: 77)
        // Reversed order, two uneven parts (as two ranks would hold), and a fresh pipeline (a resumed run).
        let order = Array((0..<8).reversed())
        let reversed = try aug.apply(try stack(data, order), sampleIDs: order.map { ids[$0] }, step: 5, seed: 77)
        let first = try aug.apply(try stack(data, [0, 1, 2]), sampleIDs: Array(ids[0..<3]), step: 5, seed: 77)
        let resumed = try Augmentation(spec: spec, sampleShape: shape)
        let second = try resumed.apply(try stack(data, [3, 4, 5, 6, 7]), sampleIDs: Array(ids[3...]), step: 5, seed: 77)
        for i in 0..<8 {
            #expect(sample(reversed, 7 - i) == sample(whole, i))
            #expect(sample(i < 3 ? first : second, i < 3 ? i : i - 3) == sample(whole, i))
            #expect(sample(whole, i) != sample(data, i))
        }
    }

    /// The samples of `t` at `rows`, stacked.
    func stack(_ t: Tensor, _ rows: [Int]) throws -> Tensor {
        try Tensor(rows.flatMap { sample(t, $0) }, shape: [rows.count] + Array(t.shape.dropFirst()))
    }

    @Test func drawsChangeWithStepIDAndSeed() throws {
        let aug = try Augmentation(spec: "crop:4,hflip,affine:15:0.1:0.1,noise:0.1,cutout:5", sampleShape: [3, 32, 32])
        let base = aug.parameters(for: 12, step: 100, seed: 1)
        #expect(base == aug.parameters(for: 12, step: 100, seed: 1))
        #expect(base.count == 5)
        #expect(base != aug.parameters(for: 12, step: 101, seed: 1))
        #expect(base != aug.parameters(for: 13, step: 100, seed: 1))
        #expect(base != aug.parameters(for: 12, step: 100, seed: 2))
        // Over many steps the draws of one sample vary: the noise seeds are all distinct.
        let seeds = Set((0..<500).map { aug.parameters(for: 12, step: $0, seed: 1)[3] })
        #expect(seeds.count == 500)
        #expect(Augmentation.sampleSeed(seed: 1, step: 2, id: 3) != Augmentation.sampleSeed(seed: 1, step: 3, id: 2))
    }

    @Test func specErrorsNameThePartAndWhatIsAllowed() throws {
        let image = [1, 28, 28]
        #expect(message { _ = try Augmentation(spec: "crop:2,flipp", sampleShape: image) }
            == "augment: unknown transform 'flipp' in 'crop:2,flipp' (known: crop, hflip, vflip, affine, noise, cutout)")
        let cases: [(String, [Int], [String])] = [
            ("crop", image, ["'crop' in 'crop'", "exactly 1", "crop:P"]),
            ("crop:x,hflip", image, ["'crop:x'", "'x' is not a whole number"]),
            ("hflip:2", image, ["probability 2 is outside 0...1"]),
            ("affine:10:0.1:0.1:3", image, ["has 4 arguments", "affine:DEG[:SCALE[:TRANSLATE]]"]),
            ("affine:200", image, ["DEG 200 is outside 0...180"]),
            ("noise:-1", image, ["STD -1.0 is not a finite number ≥ 0"]),
            ("noise:nan", image, ["'nan' is not a number"]),
            ("crop:2,,hflip", image, ["empty transform at position 2 in 'crop:2,,hflip'"]),
            ("", image, ["empty spec", "'none'"]),
            ("cutout:40", image, ["'cutout:40' in 'cutout:40'", "larger than the 28×28 image of samples [1, 28, 28]"]),
            ("crop:30", image, ["padding 30 is more than the 28×28 image"]),
            ("noise:0.1,crop:2", [13], ["'crop:2' in 'noise:0.1,crop:2' needs image samples [C, H, W] or [H, W]", "shape [13]"]),
            ("hflip", [2, 3, 4, 5], ["shape [2, 3, 4, 5]"]),
        ]
        for (spec, shape, parts) in cases {
            let m = message { _ = try Augmentation(spec: spec, sampleShape: shape) } ?? "no error"
            #expect(m.hasPrefix("augment: ") && parts.allSatisfy { m.contains($0) }, "\(spec): \(m)")
        }
        // What is valid: noise on plain features, 'none', spaces, and a spec that round-trips.
        #expect(try Augmentation(spec: "noise:0.1", sampleShape: [13]).transforms == [.noise(std: 0.1)])
        #expect(try Augmentation(spec: "none", sampleShape: [13]).isIdentity)
        let a = try Augmentation(spec: " crop:2, hflip ,affine:10:0.1:0.1,noise:0.05,cutout:8,vflip:0.25", sampleShape: image)
        #expect(a.spec == "crop:2,hflip,affine:10:0.1:0.1,noise:0.05,cutout:8,vflip:0.25")
        #expect(try Augmentation(spec: a.spec, sampleShape: image) == a)
        #expect(try Augmentation(spec: "affine:10", sampleShape: image).spec == "affine:10")
    }

    @Test func batchesOfTheWrongShapeAreRejected() throws {
        let aug = try Augmentation(spec: "hflip", sampleShape: [1, 4, 4])
        let m1 = message { _ = try aug.apply(Tensor.zeros([2, 1, 4, 5]), sampleIDs: [0, 1], step: 0, seed: 0) }
        #expect(m1?.contains("batch [2, 1, 4, 5] with 2 sample ids is not [2] + sample shape [1, 4, 4]") == true, "\(m1 ?? "")")
        let m2 = message { _ = try aug.apply(Tensor.zeros([2, 1, 4, 4]), sampleIDs: [0], step: 0, seed: 0) }
        #expect(m2?.contains("with 1 sample ids") == true)
        let m3 = message { _ = try aug.apply(Tensor.zeros([1, 1, 4, 4]), draws: [[.crop(top: 0, left: 0)]]) }
        #expect(m3?.contains("does not fit transform 'hflip'") == true, "\(m3 ?? "")")
    }
}
