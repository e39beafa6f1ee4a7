// The `--augment` spec string: comma-separated transforms `name[:arg[:arg…]]`,
// applied in the order written. Parsing checks names, argument counts and number
// syntax; validation checks ranges and the sample shape. Every error names the
// part at fault, the whole spec and what is allowed.
import CohortCore
import CohortTensor

enum AugmentationSpec {
    /// The parameter the spec arrives in (the command line shows it as `--augment`).
    static let parameter = "augment"
    static let known = "crop, hflip, vflip, affine, noise, cutout"

    /// The grammar of one transform, shown in error messages.
    static func usage(_ name: String) -> String {
        switch name {
        case "crop": return "crop:P (P: zero padding in pixels, a whole number ≥ 0)"
        case "hflip", "vflip": return "\(name)[:P] (P: probability in 0...1, default 0.5)"
        case "affine": return "affine:DEG[:SCALE[:TRANSLATE]] (DEG in 0...180, SCALE in 0..<1, TRANSLATE in 0...1)"
        case "noise": return "noise:STD (STD: standard deviation ≥ 0)"
        default: return "cutout:S (S: side of the square in pixels, 1 up to the image size)"
        }
    }

    static func error(_ message: String) -> CohortError { .invalidParameter(name: parameter, message) }

    /// The transforms of `spec`, in order (`none`: no transform).
    static func parse(_ spec: String) throws -> [AugmentationTransform] {
        let whole = trim(Substring(spec))
        if whole == "none" { return [] }
        guard !whole.isEmpty else { throw error("empty spec: give transforms such as 'crop:2,hflip' (known: \(known)), or 'none'") }
        var transforms: [AugmentationTransform] = []
        for (i, rawPart) in whole.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let part = trim(rawPart)
            guard !part.isEmpty else {
                throw error("empty transform at position \(i + 1) in '\(spec)' (separate transforms with single commas)")
            }
            transforms.append(try parsePart(part, spec: spec))
        }
        return transforms
    }

    private static func parsePart(_ part: String, spec: String) throws -> AugmentationTransform {
        let fields = part.split(separator: ":", omittingEmptySubsequences: false).map { trim($0) }
        let name = fields[0], args = Array(fields.dropFirst())
        let arity: ClosedRange<Int>
        switch name {
        case "crop", "noise", "cutout": arity = 1...1
        case "hflip", "vflip": arity = 0...1
        case "affine": arity = 1...3
        default: throw error("unknown transform '\(name)' in '\(spec)' (known: \(known))")
        }
        guard arity.contains(args.count) else {
            let wanted = arity.lowerBound == arity.upperBound ? "exactly \(arity.lowerBound)" : "\(arity.lowerBound) to \(arity.upperBound)"
            throw error("'\(part)' in '\(spec)' has \(args.count) argument\(args.count == 1 ? "" : "s"); \(name) takes "
                + "\(wanted): \(usage(name))")
        }
        func whole(_ k: Int, _ what: String) throws -> Int {
            guard let v = Int(args[k]) else {
                throw error("'\(part)' in '\(spec)': \(what) '\(args[k])' is not a whole number: \(usage(name))")
            }
            return v
        }
        func real(_ k: Int, _ what: String, default value: Double = 0) throws -> Double {
            guard k < args.count else { return value }
            guard let v = Double(args[k]), v.isFinite else {
                throw error("'\(part)' in '\(spec)': \(what) '\(args[k])' is not a number: \(usage(name))")
            }
            return v
        }
        switch name {
        case "crop": return .crop(padding: try whole(0, "P"))
        case "hflip": return .horizontalFlip(probability: try real(0, "P", default: 0.5))
        case "vflip": return .verticalFlip(probability: try real(0, "P", default: 0.5))
        case "affine": return .affine(degrees: try real(0, "DEG"), scale: try real(1, "SCALE"), translate: try real(2, "TRANSLATE"))
        case "noise": return .noise(std: Float(try real(0, "STD")))
        default: return .cutout(size: try whole(0, "S"))
        }
    }

    /// Checks settings and the sample shape; `spec` (when parsed from one) is quoted in messages.
    static func validate(_ transforms: [AugmentationTransform], sampleShape: [Int], spec: String? = nil) throws {
        let context = spec.map { " in '\($0)'" } ?? ""
        let shape = describeShape(sampleShape)
        guard !sampleShape.isEmpty, sampleShape.allSatisfy({ $0 > 0 }) else {
            throw error("samples of shape \(shape) cannot be augmented (need a non-empty shape of positive sizes)")
        }
        let isImage = sampleShape.count == 2 || sampleShape.count == 3
        let h = isImage ? sampleShape[sampleShape.count - 2] : 1, w = isImage ? sampleShape[sampleShape.count - 1] : 1
        for t in transforms {
            let part = format([t]), name = String(part.prefix { $0 != ":" })
            func require(_ ok: Bool, _ what: String) throws {
                guard ok else { throw error("'\(part)'\(context): \(what): \(usage(name))") }
            }
            if case .noise = t {} else {
                guard isImage else {
                    throw error("'\(part)'\(context) needs image samples [C, H, W] or [H, W]; the samples have shape \(shape) "
                        + "(only noise works on other shapes)")
                }
            }
            switch t {
            case let .crop(p):
                try require(p >= 0, "padding \(p) is negative")
                try require(p <= min(h, w), "padding \(p) is more than the \(h)×\(w) image of samples \(shape)")
            case let .horizontalFlip(p), let .verticalFlip(p):
                try require((0...1).contains(p), "probability \(number(p)) is outside 0...1")
            case let .affine(deg, scale, translate):
                try require((0...180).contains(deg), "DEG \(number(deg)) is outside 0...180")
                try require(scale >= 0 && scale < 1, "SCALE \(number(scale)) is outside 0..<1")
                try require((0...1).contains(translate), "TRANSLATE \(number(translate)) is outside 0...1")
            case let .noise(std):
                try require(std >= 0 && std.isFinite, "STD \(std) is not a finite number ≥ 0")
            case let .cutout(s):
                try require(s >= 1, "size \(s) is below 1")
                try require(s <= min(h, w), "size \(s) is larger than the \(h)×\(w) image of samples \(shape)")
            }
        }
    }

    /// The spec string of `transforms`; parsing it gives the same transforms.
    static func format(_ transforms: [AugmentationTransform]) -> String {
        if transforms.isEmpty { return "none" }
        return transforms.map { t -> String in
            switch t {
            case let .crop(p): return "crop:\(p)"
            case let .horizontalFlip(p): return p == 0.5 ? "hflip" : "hflip:\(number(p))"
            case let .verticalFlip(p): return p == 0.5 ? "vflip" : "vflip:\(number(p))"
            case let .affine(deg, scale, translate):
                var args = [deg, scale, translate]
                while args.count > 1, args.last == 0 { args.removeLast() }
                return "affine:" + args.map(number).joined(separator: ":")
            case let .noise(std): return "noise:\(std)"
            case let .cutout(s): return "cutout:\(s)"
            }
        }.joined(separator: ",")
    }

    /// `10` rather than `10.0` for whole numbers.
    static func number(_ x: Double) -> String {
        x.rounded() == x && abs(x) < 1e15 ? String(Int(x)) : "\(x)"
    }

    static func trim(_ s: Substring) -> String {
        String(s.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
