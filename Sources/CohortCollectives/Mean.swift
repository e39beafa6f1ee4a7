// The ÷N of averaging, in one place. Every mean Cohort takes across ranks or
// shards — DDP's gradient buckets, the shared-memory averager, BatchNorm
// buffers, the step's loss, virtual-shard gradients — is a sum followed by a
// multiplication by `Mean.factor(n)` = 1/n, so every path rounds the same way
// and the deterministic tests' weights stay bitwise equal across world sizes.

/// Turning sums of `n` contributions into means.
public enum Mean {
    /// The factor a sum of `n` contributions is multiplied by: `1 / Float(n)`.
    @inlinable public static func factor(_ n: Int) -> Float { 1 / Float(n) }

    /// The mean of `n` contributions whose sum is `sum`: `sum × factor(n)`.
    @inlinable public static func of(sum: Float, count n: Int) -> Float { sum * factor(n) }

    /// Multiplies `count` floats at `p` by `factor(n)`, in place.
    public static func scale(_ p: UnsafeMutablePointer<Float>, count: Int, by n: Int) {
        let a = factor(n)
        let v = SIMD16<Float>(repeating: a)
        let raw = UnsafeMutableRawPointer(p)
        var i = 0
        while i + 16 <= count {
            raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) * v, toByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count { p[i] *= a; i += 1 }
    }

    /// Multiplies every element of `buffer` by `1 / n` (in the element's type), in place.
    public static func scale<T: CollectiveElement & BinaryFloatingPoint>(_ buffer: UnsafeMutableBufferPointer<T>, by n: Int) {
        guard let base = buffer.baseAddress else { return }
        if T.elementKind == .float32 {
            scale(UnsafeMutableRawPointer(base).assumingMemoryBound(to: Float.self), count: buffer.count, by: n)
        } else {
            let a = 1 / T(n)
            for i in buffer.indices { buffer[i] *= a }
        }
    }
}

/// A non-blocking sum whose completion turns the sum into the mean (`allreduceMeanAsync`).
final class MeanRequest<T: CollectiveElement & BinaryFloatingPoint>: CommunicationRequest {
    private let sum: any CommunicationRequest
    private let buffer: UnsafeMutableBufferPointer<T>
    private let ranks: Int
    private var scaled = false

    init(summing sum: any CommunicationRequest, buffer: UnsafeMutableBufferPointer<T>, ranks: Int) {
        self.sum = sum
        self.buffer = buffer
        self.ranks = ranks
    }

    private func complete() {
        guard !scaled else { return }
        scaled = true
        Mean.scale(buffer, by: ranks)
    }

    func wait() throws { try sum.wait(); complete() }

    func test() throws -> Bool {
        guard try sum.test() else { return false }
        complete()
        return true
    }

    func wait(timeout seconds: Double) throws { try sum.wait(timeout: seconds); complete() }
}
