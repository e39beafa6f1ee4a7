// Deterministic mode: each global batch is cut into K fixed virtual shards; a
// rank computes the gradients of a contiguous range of them, one shard at a
// time, and the K shard gradients are summed along one fixed binary tree (pairs
// (0,1), (2,3), … then (01,23), …; a node without a partner at a level carries
// over unchanged, so K need not be a power of two), across ranks with
// point-to-point messages where a pair spans two ranks. Every addition happens in
// the same order for any world size that divides K, so the update is bitwise the
// same (K = 12: world sizes 1, 2, 3, 4, 6 and 12).
// Cost: K/world backward passes per rank on 1/K-sized batches (smaller GEMMs),
// one arena-sized buffer per local shard, and ⌈log2 K⌉ sequential reduction levels
// instead of one bandwidth-optimal allreduce.
// With a bfloat16 wire every shard gradient and every node of the tree is rounded to
// bfloat16 wherever it is computed, and messages carry the 16-bit words: half the
// bytes, and still the same bits for every world size dividing K.
import CohortCollectives
import CohortCore
import CohortKernels
import CohortNN
import CohortTensor

/// Fixed-order reduction of K virtual-shard gradients over a communicator.
public final class VirtualShardReducer {
    public let shards: Int
    public let communicator: any Communicator
    /// Shards per rank, and this rank's first shard.
    public let perRank: Int
    public var firstShard: Int { communicator.rank * perRank }
    private let buffers: [Storage]
    private let count: Int
    /// The element ranges of the gradient arena the shards carry, packed in this order.
    private let ranges: [Range<Int>]
    /// Bytes of gradient each shard carries (the trainable ranges only): 4 per element, 2 on a bfloat16 wire.
    public var bytesPerShard: Int { count * (wire == .bf16 ? 2 : 4) }
    /// float32, or bfloat16 words (binary16 needs a scale the fixed tree has no agreement for).
    public let wire: GradientWire
    /// Words for the messages of a bfloat16 wire.
    private let words: Storage?
    /// When set, every send, receive and broadcast of `reduce` is bounded by its deadline.
    public var watchdog: CollectiveWatchdog? {
        get { collectiveGuard.watchdog }
        set { collectiveGuard = CollectiveGuard(watchdog: newValue, groupSize: communicator.size) }
    }
    /// The waits of `reduce`, under `watchdog`.
    private var collectiveGuard: CollectiveGuard

    /// `ranges` (ascending element ranges of the `elements`-long gradient arena; nil: all of it)
    /// limits what is stored and reduced, e.g. to the trainable parameters.
    /// - Throws: if K < 1 or the world size does not divide it (the error lists the world sizes that do).
    /// `wire` is `.fp32` or `.bf16`; `.fp16` is refused.
    public init(shards: Int, communicator: any Communicator, elements: Int, ranges: [Range<Int>]? = nil,
                wire: GradientWire = .fp32) throws {
        guard wire != .fp16 else {
            throw CohortError.invalidParameter(name: "gradientWire", "fp16 cannot be combined with `deterministic` (its scale needs agreement the fixed tree does not have); use bf16")
        }
        self.wire = wire
        guard shards >= 1 else {
            throw CohortError.invalidParameter(name: "virtualShards", "\(shards) must be at least 1")
        }
        guard shards % communicator.size == 0 else {
            let valid = (1...shards).filter { shards % $0 == 0 }.map(String.init).joined(separator: ", ")
            throw CohortError.invalidParameter(name: "virtualShards", "\(shards) shards do not divide among \(communicator.size) ranks; valid world sizes: \(valid)")
        }
        self.shards = shards
        self.communicator = communicator
        self.perRank = shards / communicator.size
        self.ranges = ranges ?? [0..<elements]
        self.count = self.ranges.reduce(0) { $0 + $1.count }
        self.buffers = (0..<perRank).map { [count] _ in Storage(zeros: count) }
        self.words = wire == .bf16 ? Storage(count: (count + 1) / 2) : nil
        self.collectiveGuard = CollectiveGuard(watchdog: nil, groupSize: communicator.size)
    }

    /// Stores the gradient of local shard `i` (0-based among this rank's shards).
    public func store(local i: Int, from grads: UnsafePointer<Float>) {
        var packed = 0
        for r in ranges {
            (buffers[i].pointer + packed).update(from: grads + r.lowerBound, count: r.count)
            packed += r.count
        }
        roundToWire(buffers[i].pointer)
    }

    /// The 16-bit staging words of a bfloat16 wire.
    private var wordPointer: UnsafeMutablePointer<UInt16>? {
        words.map { UnsafeMutableRawPointer($0.pointer).assumingMemoryBound(to: UInt16.self) }
    }

    /// On a bfloat16 wire: rounds `values` (count elements) to bfloat16 in place.
    private func roundToWire(_ values: UnsafeMutablePointer<Float>) {
        guard let w = wordPointer else { return }
        HalfPrecision.encode(.bf16, values, w, count: count)
        HalfPrecision.decode(.bf16, w, values, count: count)
    }

    private func send(_ values: UnsafeMutablePointer<Float>, to rank: Int, tag: Int) throws {
        guard let w = wordPointer else {
            return try communicator.send(UnsafeBufferPointer(start: values, count: count), to: rank, tag: tag)
        }
        HalfPrecision.encode(.bf16, values, w, count: count)
        try communicator.send(UnsafeBufferPointer(start: UnsafeRawPointer(w).assumingMemoryBound(to: BFloat16Word.self), count: count), to: rank, tag: tag)
    }

    private func receive(into values: UnsafeMutablePointer<Float>, from rank: Int, tag: Int) throws {
        guard let w = wordPointer else {
            return try communicator.receive(into: UnsafeMutableBufferPointer(start: values, count: count), from: rank, tag: tag)
        }
        try communicator.receive(into: UnsafeMutableBufferPointer(start: UnsafeMutableRawPointer(w).assumingMemoryBound(to: BFloat16Word.self), count: count),
                                 from: rank, tag: tag)
        HalfPrecision.decode(.bf16, w, values, count: count)
    }

    private func owner(_ shard: Int) -> Int { shard / perRank }

    /// Sums the K shard gradients along the fixed tree, divides by K and writes the
    /// result into `out` on every rank.
    public func reduce(into out: UnsafeMutablePointer<Float>) throws {
        let event = Trace.recorder?.begin() ?? 0
        defer { if event != 0 { Trace.recorder?.end(.shardReduce, event) } }
        let me = communicator.rank
        var width = 1
        while width < shards {
            var i = 0
            while i < shards {
                let a = i, b = i + width
                guard b < shards else { break }   // a has no partner at this level: it carries over
                let oa = owner(a), ob = owner(b)
                if oa == me && ob == me {
                    Elementwise.axpy(count, alpha: 1, UnsafePointer(buffers[b - firstShard].pointer), buffers[a - firstShard].pointer)
                    roundToWire(buffers[a - firstShard].pointer)
                } else if ob == me {
                    try collectiveGuard("send of virtual shard \(b)'s gradient sum to rank \(oa)", peers: "rank \(oa)") {
                        try send(buffers[b - firstShard].pointer, to: oa, tag: b)
                    }
                } else if oa == me {
                    let incoming = Storage(count: count)
                    try collectiveGuard("receive of virtual shard \(b)'s gradient sum from rank \(ob)", peers: "rank \(ob)") {
                        try receive(into: incoming.pointer, from: ob, tag: b)
                    }
                    // a + b, the same expression (and rounding) as the local case.
                    Elementwise.axpy(count, alpha: 1, UnsafePointer(incoming.pointer), buffers[a - firstShard].pointer)
                    roundToWire(buffers[a - firstShard].pointer)
                }
                i += 2 * width
            }
            width *= 2
        }
        let result = Storage(count: count)
        if let w = wordPointer {
            // The root's bfloat16 words go out; every rank decodes and scales them alike.
            if me == 0 { HalfPrecision.encode(.bf16, buffers[0].pointer, w, count: count) }
            try collectiveGuard("broadcast of the summed gradient from rank 0") {
                try communicator.broadcast(UnsafeMutableBufferPointer(start: UnsafeMutableRawPointer(w).assumingMemoryBound(to: BFloat16Word.self), count: count), root: 0)
            }
            HalfPrecision.decode(.bf16, w, result.pointer, count: count)
            Mean.scale(result.pointer, count: count, by: shards)
        } else {
            if me == 0 {
                result.pointer.update(from: buffers[0].pointer, count: count)
                Mean.scale(result.pointer, count: count, by: shards)
            }
            try collectiveGuard("broadcast of the averaged gradient from rank 0") {
                try communicator.broadcast(UnsafeMutableBufferPointer(start: result.pointer, count: count), root: 0)
            }
        }
        var packed = 0
        for r in ranges {
            (out + r.lowerBound).update(from: result.pointer + packed, count: r.count)
            packed += r.count
        }
    }
}
