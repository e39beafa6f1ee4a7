// A small single-stage, anchor-free detector in the manner of CenterNet (Zhou et al.,
// "Objects as Points", 2019): a strided convolutional backbone down to 1/8 of the image
// and a 1×1 head that predicts, for every cell of that grid, one heatmap logit per class
// (an object's centre falls in the cell) and four box values (the centre's offset within
// the cell, the box's width and height in cells). Encoding targets, the loss and decoding
// boxes live with the detection task (CohortRuntime's DetectionTask and CenterNetHead).
import CohortCore
import CohortTensor

/// Builders for detection networks.
public enum DetectorModels {
    /// The grid stride: the head predicts one cell per `stride × stride` pixels.
    public static let stride = 8
    /// Box values per cell after the class heatmaps: offset x, offset y, width, height.
    public static let boxValues = 4
    /// The heatmap logits' initial bias, −log((1 − π)/π) for a prior π = 0.1 that a cell holds a centre
    /// (as CenterNet and focal-loss detectors start), so the first steps are not swamped by the background.
    public static let heatmapPriorBias: Float = -2.19

    /// The detector for `side × side` single-channel images and `classes` classes, base width `w`:
    /// `[N, side²]` or `[N, 1, side, side]` → conv 3×3 stride 2 to w/2 → stride 2 to w → w → stride 2 to 2w → 2w
    /// (dilation 2) → 2w, each with batch norm and ReLU → conv 1×1 to `classes + 4` channels:
    /// output `[N, classes + 4, side/8, side/8]`.
    /// - Throws: `CohortError.invalidArgument` when `side` is not a positive multiple of 8 or `w` is below 2 or odd.
    public static func centerNet(side: Int, classes: Int, width w: Int, generator: inout RandomGenerator) throws -> Sequential {
        guard side >= stride, side % stride == 0 else {
            throw CohortError.invalidArgument("detector: the image side \(side) must be a positive multiple of \(stride) (the grid stride)")
        }
        guard w >= 2, w % 2 == 0, classes >= 1 else {
            throw CohortError.invalidArgument("detector: the base width \(w) must be even and ≥ 2 (--hidden), classes \(classes) ≥ 1")
        }
        var layers: [any Module] = [Reshape([1, side, side])]
        var channels = 1
        for (out, stride, dilation) in [(w / 2, 2, 1), (w, 2, 1), (w, 1, 1), (2 * w, 2, 1), (2 * w, 1, 2), (2 * w, 1, 1)] {
            layers += [try Conv2d(channels, out, kernelSize: 3, stride: IntOrPair(stride), padding: IntOrPair(dilation), dilation: IntOrPair(dilation), bias: false, generator: &generator),
                       BatchNorm2d(out), ReLU()]
            channels = out
        }
        let head = try Conv2d(channels, classes + boxValues, kernelSize: 1, generator: &generator)
        if let bias = head.bias {
            try bias.assign(try Tensor([Float](repeating: heatmapPriorBias, count: classes) + [Float](repeating: 0, count: boxValues), shape: [classes + boxValues]))
        }
        return Sequential(layers + [head])
    }
}
