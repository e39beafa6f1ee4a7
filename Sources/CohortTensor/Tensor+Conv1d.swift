// 1-D convolution (NCL) as a 2-D convolution of height 1: the input becomes
// [N, C, 1, L] and the weight [O, C/groups, 1, k], so it shares conv2d's im2col
// kernels, options and backward.
import CohortCore

extension Tensor {
    /// 1-D convolution (cross-correlation, as PyTorch's `conv1d`).
    ///
    /// - Parameters:
    ///   - x: input `[N, C, L]`.
    ///   - weight: `[O, C / groups, k]`.
    ///   - bias: `[O]` or nil.
    ///   - stride, padding (zeros on both ends), dilation, groups: as `conv2d`'s along one axis.
    /// - Returns: `[N, O, ol]` with `ol = (L + 2·p - d·(k - 1) - 1) / s + 1`.
    /// - Throws: `CohortError.shapeMismatch` naming the input and weight shapes when they do not fit
    ///   together; `CohortError.invalidArgument` for a stride or dilation < 1, negative padding or groups < 1.
    public static func conv1d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                              dilation: Int = 1, groups: Int = 1) throws -> Tensor {
        guard x.rank == 3, weight.rank == 3 else {
            throw CohortError.shapeMismatch(op: "conv1d", "input must be [N, C, L] and weight [O, C/groups, k]; got input " +
                                            "\(describeShape(x.shape)), weight \(describeShape(weight.shape))")
        }
        let x4 = try x.reshape([x.shape[0], x.shape[1], 1, x.shape[2]])
        let w4 = try weight.reshape([weight.shape[0], weight.shape[1], 1, weight.shape[2]])
        let y = try conv2d(x4, weight: w4, bias: bias, stride: IntOrPair(1, stride), padding: IntOrPair(0, padding),
                           dilation: IntOrPair(1, dilation), groups: groups)
        return try y.reshape([y.shape[0], y.shape[1], y.shape[3]])
    }
}
