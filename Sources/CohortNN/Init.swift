// Weight initialisers (in place, no autograd), PyTorch's formulas.
import CohortCore
import CohortTensor

/// Parameter initialisers. `fanIn`/`fanOut` are read from a weight of shape
/// `[out, in, k…]` (receptive field multiplied in).
public enum Init {
    /// (fanIn, fanOut) of a weight tensor.
    public static func fans(_ t: Tensor) -> (Int, Int) {
        guard t.rank >= 2 else { return (t.count, t.count) }
        let rf = t.shape.dropFirst(2).reduce(1, *)
        return (t.shape[1] * rf, t.shape[0] * rf)
    }

    /// U(low, high).
    public static func uniform(_ t: Tensor, low: Float, high: Float, generator: inout RandomGenerator) throws {
        try t.assign(Tensor.rand(t.shape, low: low, high: high, generator: &generator))
    }

    /// N(mean, std²).
    public static func normal(_ t: Tensor, mean: Float = 0, std: Float, generator: inout RandomGenerator) throws {
        try t.assign(Tensor.randn(t.shape, mean: mean, std: std, generator: &generator))
    }

    /// Constant zero.
    public static func zeros(_ t: Tensor) { t.fill(0) }

    /// Kaiming/He uniform for ReLU-family layers: bound = gain·√(3/fanIn), gain = √(2/(1+a²)).
    public static func kaimingUniform(_ t: Tensor, a: Float = 0, generator: inout RandomGenerator) throws {
        let gain = (2 / (1 + a * a)).squareRoot()
        let bound = gain * (3 / Float(max(fans(t).0, 1))).squareRoot()
        try uniform(t, low: -bound, high: bound, generator: &generator)
    }

    /// Kaiming/He normal: std = gain/√fanIn.
    public static func kaimingNormal(_ t: Tensor, a: Float = 0, generator: inout RandomGenerator) throws {
        let gain = (2 / (1 + a * a)).squareRoot()
        try normal(t, std: gain / Float(max(fans(t).0, 1)).squareRoot(), generator: &generator)
    }

    /// Xavier/Glorot uniform: bound = gain·√(6/(fanIn+fanOut)).
    public static func xavierUniform(_ t: Tensor, gain: Float = 1, generator: inout RandomGenerator) throws {
        let (i, o) = fans(t)
        let bound = gain * (6 / Float(max(i + o, 1))).squareRoot()
        try uniform(t, low: -bound, high: bound, generator: &generator)
    }

    /// Xavier/Glorot normal: std = gain·√(2/(fanIn+fanOut)).
    public static func xavierNormal(_ t: Tensor, gain: Float = 1, generator: inout RandomGenerator) throws {
        let (i, o) = fans(t)
        try normal(t, std: gain * (2 / Float(max(i + o, 1))).squareRoot(), generator: &generator)
    }
}
