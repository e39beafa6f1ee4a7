// Seeded image augmentation for training batches `[B, C, H, W]`. Every random
// draw for a sample comes from a generator seeded by a hash of (seed, step,
// sample id), so an augmentation depends neither on the world size, the rank or
// the batch composition, and a resumed run needs no saved augmentation state.
import CohortCore
import CohortTensor

/// One transform of an augmentation pipeline, with its settings from the spec string.
public enum AugmentationTransform: Sendable, Equatable {
    /// `crop:P` — pad `padding` zero pixels on each side, then take a random H×W window.
    case crop(padding: Int)
    /// `hflip[:P]` — mirror left–right with probability `probability` (default 0.5).
    case horizontalFlip(probability: Double)
    /// `vflip[:P]` — mirror top–bottom with probability `probability` (default 0.5).
    case verticalFlip(probability: Double)
    /// `affine:DEG[:SCALE[:TRANSLATE]]` — rotate by ±`degrees` about the centre, scale by
    /// 1 ± `scale`, shift by ± `translate` × width/height; bilinear sampling, zero fill.
    case affine(degrees: Double, scale: Double, translate: Double)
    /// `noise:STD` — add independent Gaussian noise N(0, `std`²) to every element.
    case noise(std: Float)
    /// `cutout:S` — zero one `size`×`size` square (all channels) at a random centre, clipped at the borders.
    case cutout(size: Int)
}

/// The random parameters one transform drew for one sample (one per pipeline transform, in order).
public enum AugmentationDraw: Sendable, Hashable {
    /// Top-left corner of the H×W window in the padded image, each in `0...2P`;
    /// output `[y, x]` = input `[y + top − P, x + left − P]`, or 0 outside the input.
    case crop(top: Int, left: Int)
    /// Whether the sample is mirrored left–right.
    case horizontalFlip(Bool)
    /// Whether the sample is mirrored top–bottom.
    case verticalFlip(Bool)
    /// Rotation in degrees (counter-clockwise as displayed, about the image centre), scale factor,
    /// and shift in pixels (`dx` to the right, `dy` down).
    case affine(degrees: Double, scale: Double, dx: Double, dy: Double)
    /// Seed of the noise field (`RandomGenerator(seed:)`'s stream, Gaussian by the ziggurat method).
    case noise(seed: UInt64)
    /// Centre of the zeroed square: row and column in `0..<H`, `0..<W`. The square covers rows
    /// `row − S/2 ..< row − S/2 + S` (integer division) and likewise columns, clipped to the image.
    case cutout(row: Int, column: Int)
}

/// A seeded, checkpointable augmentation pipeline for classification batches.
///
/// Build it once from a spec such as `crop:2,hflip,affine:10:0.1:0.1,noise:0.05,cutout:8` and
/// the shape of one sample; apply it to each training batch with the step number and the global
/// sample ids. The output for a sample is a pure function of (spec, seed, step, id).
public struct Augmentation: Sendable, Equatable {
    /// The transforms, in the order they are applied.
    public let transforms: [AugmentationTransform]
    /// Shape of one sample: `[C, H, W]`, `[H, W]` (one channel) or, for `noise` only, any shape.
    public let sampleShape: [Int]

    /// Parses `spec` (see docs/augmentation.md) and checks each transform against `sampleShape`.
    /// `none` gives an empty pipeline (the identity).
    /// - Throws: `CohortError.invalidParameter(name: "augment", _)` naming the bad part of the spec and what
    ///   is allowed, or the sample shape a transform cannot work on (e.g. `crop` on `[D]` features).
    public init(spec: String, sampleShape: [Int]) throws {
        let transforms = try AugmentationSpec.parse(spec)
        try AugmentationSpec.validate(transforms, sampleShape: sampleShape, spec: spec)
        self.transforms = transforms
        self.sampleShape = sampleShape
    }

    /// A pipeline of `transforms`, checked against `sampleShape`.
    /// - Throws: `CohortError.invalidParameter(name: "augment", _)` for a setting out of range or a shape
    ///   a transform cannot work on.
    public init(transforms: [AugmentationTransform], sampleShape: [Int]) throws {
        try AugmentationSpec.validate(transforms, sampleShape: sampleShape)
        self.transforms = transforms
        self.sampleShape = sampleShape
    }

    /// The pipeline written back as a spec string (`none` when empty), e.g. for logs and summaries.
    public var spec: String { AugmentationSpec.format(transforms) }

    /// Whether the pipeline has no transform (applying it copies the batch).
    public var isIdentity: Bool { transforms.isEmpty }

    /// Channels, height and width of one sample (`[D]` counts as 1×1×D: only noise accepts it).
    var geometry: (channels: Int, height: Int, width: Int) {
        switch sampleShape.count {
        case 3: return (sampleShape[0], sampleShape[1], sampleShape[2])
        case 2: return (1, sampleShape[0], sampleShape[1])
        default: return (1, 1, sampleShape.reduce(1, *))
        }
    }

    /// The seed of sample `id`'s generator at training step `step`: a hash of (seed, step, id),
    /// in a stream of `seed` separate from initialisation and shuffling.
    public static func sampleSeed(seed: UInt64, step: Int, id: Int) -> UInt64 {
        let stream = deriveSeed(seed, 0x6175_676D_656E_74)   // "augment"
        return deriveSeed(deriveSeed(stream, UInt64(bitPattern: Int64(step))), UInt64(bitPattern: Int64(id)))
    }

    /// The random parameters drawn for sample `id` at training step `step`: one draw per transform,
    /// in pipeline order, all from `RandomGenerator(seed: sampleSeed(seed:step:id:))`.
    public func parameters(for id: Int, step: Int, seed: UInt64) -> [AugmentationDraw] {
        var g = RandomGenerator(seed: Augmentation.sampleSeed(seed: seed, step: step, id: id))
        let (_, h, w) = geometry
        func symmetric(_ bound: Double) -> Double { (2 * g.nextDouble() - 1) * bound }
        return transforms.map { t in
            switch t {
            case let .crop(p):
                let top = g.nextInt(below: 2 * p + 1)
                return .crop(top: top, left: g.nextInt(below: 2 * p + 1))
            case let .horizontalFlip(p): return .horizontalFlip(g.nextDouble() < p)
            case let .verticalFlip(p): return .verticalFlip(g.nextDouble() < p)
            case let .affine(deg, scale, translate):
                let angle = symmetric(deg), s = 1 + symmetric(scale)
                let dx = symmetric(translate * Double(w))
                return .affine(degrees: angle, scale: s, dx: dx, dy: symmetric(translate * Double(h)))
            case .noise: return .noise(seed: g.next())
            case .cutout:
                let row = g.nextInt(below: h)
                return .cutout(row: row, column: g.nextInt(below: w))
            }
        }
    }

    /// Augments a training batch into a new tensor (the input is left unchanged).
    /// - Parameters:
    ///   - batch: contiguous `[B] + sampleShape`.
    ///   - sampleIDs: the global id of each sample (its dataset index), length `B`.
    ///   - step: the training step the batch is for.
    ///   - seed: the run's seed.
    /// - Returns: a contiguous tensor of the same shape.
    /// - Throws: `CohortError.shapeMismatch` if the batch is not `[B] + sampleShape` or `sampleIDs`
    ///   does not hold `B` ids; `CohortError.invalidArgument` if the batch is not contiguous.
    public func apply(_ batch: Tensor, sampleIDs: [Int], step: Int, seed: UInt64) throws -> Tensor {
        try checkBatch(batch, samples: sampleIDs.count, what: "sample ids")
        return try apply(batch, draws: sampleIDs.map { parameters(for: $0, step: step, seed: seed) })
    }

    /// Augments a batch with given parameters (`draws[i]` for sample `i`, one draw per transform, as
    /// `parameters(for:step:seed:)` returns), e.g. to apply an exact rotation.
    /// - Throws: `CohortError.shapeMismatch` for a batch other than `[draws.count] + sampleShape`;
    ///   `CohortError.invalidArgument` for a draw that does not match its transform or is out of range.
    public func apply(_ batch: Tensor, draws: [[AugmentationDraw]]) throws -> Tensor {
        try checkBatch(batch, samples: draws.count, what: "parameter lists")
        for (i, d) in draws.enumerated() { try checkDraws(d, sample: i) }
        let out = Tensor(storage: Storage(count: batch.count), shape: batch.shape)
        let n = sampleShape.reduce(1, *)
        let (c, h, w) = geometry
        let image = AugmentationImage(channels: c, height: h, width: w)
        let scratch = Storage(count: image.scratchCount)
        try batch.withContiguousBuffer { src in
            try out.withMutableBuffer { dst in
                for (i, sampleDraws) in draws.enumerated() {
                    let sample = dst + i * n
                    sample.update(from: src + i * n, count: n)
                    for (t, d) in zip(transforms, sampleDraws) {
                        image.apply(t, d, to: sample, scratch: scratch.pointer)
                    }
                }
            }
        }
        return out
    }

    private func checkBatch(_ batch: Tensor, samples: Int, what: String) throws {
        guard batch.shape == [samples] + sampleShape else {
            throw CohortError.shapeMismatch(op: "Augmentation.apply", "batch \(describeShape(batch.shape)) with \(samples) "
                + "\(what) is not [\(samples)] + sample shape \(describeShape(sampleShape))")
        }
        guard batch.isContiguous else {
            throw CohortError.invalidArgument("Augmentation.apply: batch of shape \(describeShape(batch.shape)) is not contiguous")
        }
    }

    private func checkDraws(_ draws: [AugmentationDraw], sample: Int) throws {
        guard draws.count == transforms.count else {
            throw CohortError.invalidArgument("Augmentation.apply: sample \(sample) has \(draws.count) draws for "
                + "\(transforms.count) transforms (\(spec))")
        }
        let (_, h, w) = geometry
        for (t, d) in zip(transforms, draws) {
            let ok: Bool
            switch (t, d) {
            case let (.crop(p), .crop(top, left)): ok = (0...2 * p).contains(top) && (0...2 * p).contains(left)
            case (.horizontalFlip, .horizontalFlip), (.verticalFlip, .verticalFlip), (.noise, .noise): ok = true
            case let (.affine, .affine(deg, scale, dx, dy)): ok = deg.isFinite && scale > 0 && scale.isFinite && dx.isFinite && dy.isFinite
            case let (.cutout, .cutout(row, column)): ok = (0..<h).contains(row) && (0..<w).contains(column)
            default: ok = false
            }
            guard ok else {
                throw CohortError.invalidArgument("Augmentation.apply: sample \(sample): draw \(d) does not fit transform "
                    + "'\(AugmentationSpec.format([t]))' on samples \(describeShape(sampleShape))")
            }
        }
    }
}
