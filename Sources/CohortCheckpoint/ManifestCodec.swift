// The one file that touches the C target: the protobuf-c generated code
// (Manifest ⇄ protobuf bytes), the C CRC32C, and Linux-only file calls. Every count and string from a
// decoded message is converted with bounds checks; nothing here trusts the file.
import CCheckpointProto
import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// CRC32C (Castagnoli) checksums, hardware-accelerated where available.
public enum CRC32C {
    /// CRC32C of `count` bytes at `pointer`, continuing from `crc` (0 to start).
    public static func checksum(_ pointer: UnsafeRawPointer, count: Int, continuing crc: UInt32 = 0) -> UInt32 {
        cohort_crc32c(crc, pointer, count)
    }
    /// CRC32C of a byte array.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, count: $0.count) }
    }
    /// Whether the SSE4.2 instruction path is in use.
    public static var isHardware: Bool { cohort_crc32c_hardware() != 0 }
}

extension FileIO {
    /// Starts writeback of a just-written range without waiting (best effort).
    static func startWriteback(_ fd: Int32, offset: UInt64, length: Int) {
        _ = cohort_start_writeback(fd, Int64(offset), Int64(length))
    }
}

/// Manifest ⇄ protobuf wire bytes through protobuf-c.
enum ManifestCodec {
    private typealias Arena = CAllocations

    private static func keyValues(_ kvs: [KeyValue], _ a: Arena) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<Cohort__Checkpoint__KeyValue>?>) {
        let items: [UnsafeMutablePointer<Cohort__Checkpoint__KeyValue>?] = kvs.map { kv in
            let m = a.alloc(Cohort__Checkpoint__KeyValue.self)
            cohort__checkpoint__key_value__init(m)
            m.pointee.key = a.string(kv.key); m.pointee.value = a.string(kv.value)
            return m
        }
        return (kvs.count, a.array(items))
    }

    private static func namedValues(_ vs: [NamedValue], _ a: Arena) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<Cohort__Checkpoint__HyperParameter>?>) {
        let items: [UnsafeMutablePointer<Cohort__Checkpoint__HyperParameter>?] = vs.map { v in
            let m = a.alloc(Cohort__Checkpoint__HyperParameter.self)
            cohort__checkpoint__hyper_parameter__init(m)
            m.pointee.name = a.string(v.name); m.pointee.value = v.value
            return m
        }
        return (vs.count, a.array(items))
    }

    /// Serialises `m` to protobuf bytes.
    static func encode(_ m: Manifest) -> [UInt8] {
        let a = Arena()
        let msg = a.alloc(Cohort__Checkpoint__Manifest.self)
        cohort__checkpoint__manifest__init(msg)
        msg.pointee.format_version = m.formatVersion
        msg.pointee.cohort_version = a.string(m.cohortVersion)
        msg.pointee.created_unix_ms = m.createdUnixMs
        msg.pointee.step = Int64(m.step)
        msg.pointee.epoch = Int64(m.epoch)
        let d = a.alloc(Cohort__Checkpoint__DataCursor.self)
        cohort__checkpoint__data_cursor__init(d)
        d.pointee.shuffle_seed = m.data.shuffleSeed
        d.pointee.epoch = Int64(m.data.epoch)
        d.pointee.sample_in_epoch = Int64(m.data.sampleInEpoch)
        d.pointee.samples_consumed = Int64(m.data.samplesConsumed)
        d.pointee.dataset = a.string(m.data.dataset)
        d.pointee.dataset_size = Int64(m.data.datasetSize)
        d.pointee.data_name = a.string(m.data.dataName)
        d.pointee.data_sha256 = a.string(m.data.dataSHA256)
        msg.pointee.data = d
        msg.pointee.global_batch_size = Int64(m.globalBatchSize)
        msg.pointee.world_size = Int32(clamping: m.worldSize)
        msg.pointee.virtual_shards = Int32(clamping: m.virtualShards)
        let model = a.alloc(Cohort__Checkpoint__ModelConfig.self)
        cohort__checkpoint__model_config__init(model)
        model.pointee.name = a.string(m.model.name)
        (model.pointee.n_settings, model.pointee.settings) = keyValues(KeyValue.inPieces(m.model.settings, limit: maxStringBytes), a)
        model.pointee.parameter_count = Int64(m.model.parameterCount)
        msg.pointee.model = model
        let rngs: [UnsafeMutablePointer<Cohort__Checkpoint__RngState>?] = m.rng.map { r in
            let s = a.alloc(Cohort__Checkpoint__RngState.self)
            cohort__checkpoint__rng_state__init(s)
            s.pointee.name = a.string(r.name)
            s.pointee.n_words = r.words.count
            s.pointee.words = a.array(r.words)
            return s
        }
        msg.pointee.n_rng = rngs.count
        msg.pointee.rng = a.array(rngs)
        let opt = a.alloc(Cohort__Checkpoint__OptimizerState.self)
        cohort__checkpoint__optimizer_state__init(opt)
        opt.pointee.kind = a.string(m.optimizer.kind)
        (opt.pointee.n_hyper_parameters, opt.pointee.hyper_parameters) = namedValues(m.optimizer.hyperParameters, a)
        opt.pointee.step = Int64(m.optimizer.step)
        opt.pointee.n_buffers = m.optimizer.buffers.count
        opt.pointee.buffers = a.array(m.optimizer.buffers.map { Optional(a.string($0)) })
        msg.pointee.optimizer = opt
        let sch = a.alloc(Cohort__Checkpoint__ScheduleState.self)
        cohort__checkpoint__schedule_state__init(sch)
        sch.pointee.kind = a.string(m.schedule.kind)
        (sch.pointee.n_parameters, sch.pointee.parameters) = namedValues(m.schedule.parameters, a)
        sch.pointee.step = Int64(m.schedule.step)
        msg.pointee.schedule = sch
        let metrics: [UnsafeMutablePointer<Cohort__Checkpoint__MetricPoint>?] = m.metrics.map { p in
            let s = a.alloc(Cohort__Checkpoint__MetricPoint.self)
            cohort__checkpoint__metric_point__init(s)
            s.pointee.name = a.string(p.name); s.pointee.step = Int64(p.step); s.pointee.value = p.value
            return s
        }
        msg.pointee.n_metrics = metrics.count
        msg.pointee.metrics = a.array(metrics)
        (msg.pointee.n_metadata, msg.pointee.metadata) = keyValues(m.metadata, a)
        (msg.pointee.n_training_config, msg.pointee.training_config) = keyValues(m.trainingConfig, a)
        let tensors: [UnsafeMutablePointer<Cohort__Checkpoint__TensorRecord>?] = m.tensors.map { t in
            let r = a.alloc(Cohort__Checkpoint__TensorRecord.self)
            cohort__checkpoint__tensor_record__init(r)
            r.pointee.name = a.string(t.name)
            r.pointee.n_shape = t.shape.count
            r.pointee.shape = a.array(t.shape.map(Int64.init))
            r.pointee.dtype = Cohort__Checkpoint__DType(rawValue: UInt32(t.dtype.rawValue))
            r.pointee.byte_length = t.byteLength
            let chunks: [UnsafeMutablePointer<Cohort__Checkpoint__Chunk>?] = t.chunks.map { c in
                let ch = a.alloc(Cohort__Checkpoint__Chunk.self)
                cohort__checkpoint__chunk__init(ch)
                ch.pointee.file = a.string(c.file); ch.pointee.offset = c.offset
                ch.pointee.length = c.length; ch.pointee.crc32c = c.crc32c
                return ch
            }
            r.pointee.n_chunks = chunks.count
            r.pointee.chunks = a.array(chunks)
            return r
        }
        msg.pointee.n_tensors = tensors.count
        msg.pointee.tensors = a.array(tensors)
        let size = cohort__checkpoint__manifest__get_packed_size(msg)
        var out = [UInt8](repeating: 0, count: size)
        out.withUnsafeMutableBufferPointer { _ = cohort__checkpoint__manifest__pack(msg, $0.baseAddress!) }
        return out
    }

    /// Decoding limits (`CheckpointLimits`): generous for real checkpoints, small enough
    /// that a hostile manifest cannot make the reader build huge Swift structures.
    static let limits = CheckpointLimits.standard
    static let maxDims = limits.maxDimensions, maxStringBytes = limits.maxStringBytes, maxWords = limits.maxRNGWords

    struct DecodeError: Error { let message: String }

    private static func str(_ p: UnsafeMutablePointer<CChar>?, _ what: String) throws -> String {
        guard let p else { return "" }
        let n = strnlen(p, maxStringBytes + 1)
        guard n <= maxStringBytes else { throw DecodeError(message: "\(what) is longer than \(maxStringBytes) bytes") }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self)
    }

    private static func kvs(_ n: Int, _ p: UnsafeMutablePointer<UnsafeMutablePointer<Cohort__Checkpoint__KeyValue>?>?, _ what: String) throws -> [KeyValue] {
        guard let p else { return [] }
        return try (0..<n).compactMap { i in
            guard let kv = p[i] else { return nil }
            let key = try str(kv.pointee.key, what + " key")
            return KeyValue(key, try str(kv.pointee.value, what + " value of \(key.prefix(64))"))
        }
    }

    private static func named(_ n: Int, _ p: UnsafeMutablePointer<UnsafeMutablePointer<Cohort__Checkpoint__HyperParameter>?>?, _ what: String) throws -> [NamedValue] {
        guard let p else { return [] }
        return try (0..<n).compactMap { i in
            guard let v = p[i] else { return nil }
            return NamedValue(try str(v.pointee.name, what), v.pointee.value)
        }
    }

    private static func int(_ v: Int64, _ what: String) throws -> Int {
        guard v >= 0 else { throw DecodeError(message: "\(what) is negative (\(v))") }
        return Int(v)
    }

    /// Parses protobuf bytes into a Manifest.
    /// - Throws: `DecodeError` for malformed protobuf or out-of-range values.
    static func decode(_ bytes: [UInt8]) throws -> Manifest {
        let parsed = bytes.withUnsafeBufferPointer { cohort__checkpoint__manifest__unpack(nil, $0.count, $0.baseAddress) }
        guard let msg = parsed else { throw DecodeError(message: "not a valid protobuf manifest") }
        defer { cohort__checkpoint__manifest__free_unpacked(msg, nil) }
        let c = msg.pointee
        var m = Manifest()
        m.formatVersion = c.format_version
        m.cohortVersion = try str(c.cohort_version, "cohort_version")
        m.createdUnixMs = c.created_unix_ms
        m.step = try int(c.step, "step")
        m.epoch = try int(c.epoch, "epoch")
        if let d = c.data?.pointee {
            m.data.shuffleSeed = d.shuffle_seed
            m.data.epoch = try int(d.epoch, "data.epoch")
            m.data.sampleInEpoch = try int(d.sample_in_epoch, "data.sample_in_epoch")
            m.data.samplesConsumed = try int(d.samples_consumed, "data.samples_consumed")
            m.data.dataset = try str(d.dataset, "data.dataset")
            m.data.datasetSize = try int(d.dataset_size, "data.dataset_size")
            m.data.dataName = try str(d.data_name, "data.data_name")
            m.data.dataSHA256 = try str(d.data_sha256, "data.data_sha256")
        }
        m.globalBatchSize = try int(c.global_batch_size, "global_batch_size")
        m.worldSize = try int(Int64(c.world_size), "world_size")
        m.virtualShards = try int(Int64(c.virtual_shards), "virtual_shards")
        if let mc = c.model?.pointee {
            m.model.name = try str(mc.name, "model.name")
            m.model.settings = KeyValue.joiningPieces(try kvs(mc.n_settings, mc.settings, "model.settings"))
            m.model.parameterCount = try int(mc.parameter_count, "model.parameter_count")
        }
        if let rp = c.rng {
            for i in 0..<c.n_rng {
                guard let r = rp[i]?.pointee else { continue }
                guard r.n_words <= maxWords else { throw DecodeError(message: "rng state has \(r.n_words) words (the limit is \(maxWords))") }
                let words = r.words.map { Array(UnsafeBufferPointer(start: $0, count: r.n_words)) } ?? []
                m.rng.append(RNGRecord(name: try str(r.name, "rng.name"), words: words))
            }
        }
        if let o = c.optimizer?.pointee {
            m.optimizer.kind = try str(o.kind, "optimizer.kind")
            m.optimizer.hyperParameters = try named(o.n_hyper_parameters, o.hyper_parameters, "optimizer hyper-parameter")
            m.optimizer.step = try int(o.step, "optimizer.step")
            if let b = o.buffers { m.optimizer.buffers = try (0..<o.n_buffers).map { try str(b[$0], "optimizer buffer name") } }
        }
        if let s = c.schedule?.pointee {
            m.schedule.kind = try str(s.kind, "schedule.kind")
            m.schedule.parameters = try named(s.n_parameters, s.parameters, "schedule parameter")
            m.schedule.step = try int(s.step, "schedule.step")
        }
        if let mp = c.metrics {
            for i in 0..<c.n_metrics {
                guard let p = mp[i]?.pointee else { continue }
                m.metrics.append(MetricPoint(name: try str(p.name, "metric name"), step: Int(p.step), value: p.value))
            }
        }
        m.metadata = try kvs(c.n_metadata, c.metadata, "metadata")
        m.trainingConfig = try kvs(c.n_training_config, c.training_config, "training_config")
        if let tp = c.tensors {
            for i in 0..<c.n_tensors {
                guard let t = tp[i]?.pointee else { continue }
                let name = try str(t.name, "tensor name")
                guard t.n_shape <= maxDims else { throw DecodeError(message: "tensor \(name) has \(t.n_shape) dimensions (the limit is \(maxDims))") }
                let shape = try (0..<t.n_shape).map { try int(t.shape[$0], "dimension of tensor \(name)") }
                guard let dtype = DType(rawValue: Int(t.dtype.rawValue)) else {
                    throw DecodeError(message: "tensor \(name) has unknown dtype \(t.dtype.rawValue)")
                }
                var chunks: [Chunk] = []
                if let cp = t.chunks {
                    for j in 0..<t.n_chunks {
                        guard let ch = cp[j]?.pointee else { throw DecodeError(message: "tensor \(name) has an empty chunk entry") }
                        chunks.append(Chunk(file: try str(ch.file, "chunk file"), offset: ch.offset, length: ch.length, crc32c: ch.crc32c))
                    }
                }
                m.tensors.append(TensorRecord(name: name, shape: shape, dtype: dtype, byteLength: t.byte_length, chunks: chunks))
            }
        }
        return m
    }
}
