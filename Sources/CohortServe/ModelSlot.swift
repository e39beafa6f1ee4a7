// The model being served, swappable while requests run: a batch reads the slot once and
// runs on that model to the end, so a swap (--watch) never fails or mixes a request.
import Foundation

/// A lock-protected reference to the served model; `replace` swaps it atomically for later batches.
public final class ModelSlot: @unchecked Sendable {
    private let lock = NSLock()
    private var model: any ServableModel
    private var swapCount = 0

    /// A slot serving `model`.
    public init(_ model: any ServableModel) { self.model = model }

    /// The model new batches run on.
    public var current: any ServableModel { lock.withLock { model } }

    /// How many times `replace` swapped the model.
    public var swaps: Int { lock.withLock { swapCount } }

    /// Serves `newModel` from the next batch on.
    /// - Throws: `ServeError.badConfiguration` when its input or output signature differs from the served one
    ///   (requests already validated against the old signature would then be wrong).
    public func replace(with newModel: any ServableModel) throws {
        try lock.withLock {
            guard newModel.input == model.input, newModel.output == model.output else {
                throw ServeError.badConfiguration(flag: "--watch", "model \(newModel.name) version \(newModel.version) has signature "
                    + "\(newModel.input.shape)→\(newModel.output.shape), the served one \(model.input.shape)→\(model.output.shape); not swapped")
            }
            model = newModel
            swapCount += 1
        }
    }
}
