// A detection data set Cohort makes itself (issue 18, item 6): digit images (MNIST's, or
// any [n, rows, cols] IDX array with labels) scaled and placed on a square grayscale
// canvas, several per scene and without overlap, each with its tight bounding box (the
// extent of its ink) and class; deterministic from a seed, scene by scene. Writing the
// scenes as PNG images with their annotations is DetectionDataset.swift.
import CohortCore

/// One placed digit: its box in canvas pixels (`x0`, `y0` inclusive, `x1`, `y1` exclusive) and class.
public struct SceneObject: Sendable, Equatable {
    public var x0: Int, y0: Int, x1: Int, y1: Int
    public var label: Int
    /// The index of the source image (-1: unknown).
    public var source: Int
    public init(x0: Int, y0: Int, x1: Int, y1: Int, label: Int, source: Int = -1) {
        (self.x0, self.y0, self.x1, self.y1, self.label, self.source) = (x0, y0, x1, y1, label, source)
    }
}

/// A canvas and the objects on it.
public struct DetectionScene: Sendable, Equatable {
    public let size: Int
    /// Grayscale pixels, row-major, `size × size`.
    public var pixels: [UInt8]
    public var objects: [SceneObject]
    public init(size: Int, pixels: [UInt8], objects: [SceneObject]) { (self.size, self.pixels, self.objects) = (size, pixels, objects) }
}

/// Makes detection scenes from digit images.
public enum DetectionScenes {
    /// How scenes are drawn.
    public struct Settings: Sendable, Equatable {
        /// Canvas side in pixels.
        public var canvas = 96
        /// Objects per scene, drawn uniformly from this range (fewer when no free place is found).
        public var objects = 2...5
        /// Side of a placed digit image, drawn uniformly from this range (nearest-neighbour scaling).
        public var digitSize = 20...36
        /// Placement attempts per object before it is left out.
        public var attempts = 50
        /// The source images digits are drawn from (nil: all): held-out splits draw from images training never sees.
        public var sources: Range<Int>?
        public init() {}
    }

    /// `count` scenes from `images` (`[n, rows, cols]`) and `labels` (`[n]`), scene i drawn from
    /// `SplitMix64(seed: SplitMix64.mix(seed ^ i))`, so any scene can be made alone and in any order.
    /// - Throws: `CohortError.invalidArgument` for shapes that do not fit or settings out of range.
    public static func make(images: IDXArray, labels: IDXArray, count: Int, seed: UInt64, settings s: Settings = Settings(),
                            first: Int = 0) throws -> [DetectionScene] {
        guard images.shape.count == 3, labels.shape == [images.shape[0]], images.shape[0] > 0 else {
            throw CohortError.invalidArgument("detection scenes: images must be [n, rows, cols] with n ≥ 1 and labels [n], got \(describeShape(images.shape)) and \(describeShape(labels.shape))")
        }
        if let r = s.sources, r.isEmpty || r.lowerBound < 0 || r.upperBound > images.shape[0] {
            throw CohortError.invalidArgument("detection scenes: source images \(r) must be a non-empty part of the \(images.shape[0]) images")
        }
        guard s.digitSize.lowerBound >= 4, s.digitSize.upperBound <= s.canvas, s.objects.lowerBound >= 1, count >= 0 else {
            throw CohortError.invalidArgument("detection scenes: digit sizes \(s.digitSize) must lie in 4…\(s.canvas) (the canvas) and objects \(s.objects) start at 1")
        }
        return (first..<(first + count)).map { scene(images: images, labels: labels, index: $0, seed: seed, settings: s) }
    }

    /// Scene `index`.
    static func scene(images: IDXArray, labels: IDXArray, index: Int, seed: UInt64, settings s: Settings) -> DetectionScene {
        var g = SplitMix64(seed: SplitMix64.mix(seed ^ UInt64(index)))
        func draw(_ r: ClosedRange<Int>) -> Int { r.lowerBound + g.nextIndex(below: r.count) }
        let n = images.shape[0], rows = images.shape[1], cols = images.shape[2]
        var pixels = [UInt8](repeating: 0, count: s.canvas * s.canvas)
        var objects: [SceneObject] = []
        for _ in 0..<draw(s.objects) {
            let pool = s.sources ?? 0..<n
            let source = pool.lowerBound + g.nextIndex(below: pool.count), side = draw(s.digitSize)
            // The digit scaled to side × side (nearest neighbour), and its ink's extent.
            var patch = [UInt8](repeating: 0, count: side * side)
            var ink = (x0: side, y0: side, x1: -1, y1: -1)
            for y in 0..<side {
                for x in 0..<side {
                    let v = images.bytes[source * rows * cols + (y * rows / side) * cols + x * cols / side]
                    patch[y * side + x] = v
                    if v > 0 { ink = (min(ink.x0, x), min(ink.y0, y), max(ink.x1, x), max(ink.y1, y)) }
                }
            }
            guard ink.x1 >= 0 else { continue }   // a blank image: nothing to detect
            for _ in 0..<s.attempts {
                let ox = g.nextIndex(below: s.canvas - side + 1), oy = g.nextIndex(below: s.canvas - side + 1)
                let box = SceneObject(x0: ox + ink.x0, y0: oy + ink.y0, x1: ox + ink.x1 + 1, y1: oy + ink.y1 + 1,
                                      label: Int(labels.bytes[source]), source: source)
                // The whole patch must not cover another object's ink box (nor its ink ours).
                let frame = (x0: ox, y0: oy, x1: ox + side, y1: oy + side)
                let free = objects.allSatisfy { o in o.x1 <= frame.x0 || frame.x1 <= o.x0 || o.y1 <= frame.y0 || frame.y1 <= o.y0 }
                guard free else { continue }
                for y in 0..<side { for x in 0..<side {
                    let i = (oy + y) * s.canvas + ox + x
                    pixels[i] = max(pixels[i], patch[y * side + x])
                } }
                objects.append(box)
                break
            }
        }
        return DetectionScene(size: s.canvas, pixels: pixels, objects: objects)
    }

    /// The annotations of `scenes` as JSON: `{"canvas":S,"classes":10,"images":[{"file":…,"objects":[{"box":[x0,y0,x1,y1],"label":L,"source":I}…]}…]}`
    /// (boxes in pixels, x1 and y1 exclusive; `source`: the digit's index in the image file it came from); `files[i]` names scene i's image.
    public static func annotationsJSON(_ scenes: [DetectionScene], files: [String], classes: Int = 10) -> String {
        let images = zip(scenes, files).map { scene, file in
            #"{"file":"# + jsonStringLiteral(file) + #","objects":["#
                + scene.objects.map { #"{"box":["# + "\($0.x0),\($0.y0),\($0.x1),\($0.y1)" + #"],"label":"# + "\($0.label)" + #","source":"# + "\($0.source)}" }.joined(separator: ",")
                + "]}"
        }
        return #"{"canvas":"# + "\(scenes.first?.size ?? 0)" + #","classes":"# + "\(classes)" + #","images":["# + images.joined(separator: ",\n") + "]}\n"
    }
}
