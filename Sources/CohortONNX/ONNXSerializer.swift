// ONNXModel → ModelProto bytes through the protobuf-c code generated from
// proto/onnx.proto; the only file of CohortONNX that imports CONNXProto. Every C
// allocation of one serialization lives in an arena freed when it is done.
import CONNXProto
import CohortCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension ONNXModel {
    /// The serialized `ModelProto`.
    public func serialized() -> [UInt8] {
        let a = Arena()
        let m = a.alloc(Onnx__ModelProto.self)
        onnx__model_proto__init(m)
        m.pointee.has_ir_version = 1
        m.pointee.ir_version = Int64(irVersion)
        m.pointee.producer_name = a.string(producerName)
        m.pointee.producer_version = a.string(producerVersion)
        let opsetID = a.alloc(Onnx__OperatorSetIdProto.self)
        onnx__operator_set_id_proto__init(opsetID)
        opsetID.pointee.domain = a.string("")
        opsetID.pointee.has_version = 1
        opsetID.pointee.version = Int64(opset)
        m.pointee.n_opset_import = 1
        m.pointee.opset_import = a.array([opsetID])
        m.pointee.graph = graph(a)
        m.pointee.n_metadata_props = metadata.count
        m.pointee.metadata_props = a.array(metadata.map { kv in
            let e = a.alloc(Onnx__StringStringEntryProto.self)
            onnx__string_string_entry_proto__init(e)
            e.pointee.key = a.string(kv.key)
            e.pointee.value = a.string(kv.value)
            return e
        })
        let size = onnx__model_proto__get_packed_size(m)
        var out = [UInt8](repeating: 0, count: size)
        out.withUnsafeMutableBufferPointer { _ = onnx__model_proto__pack(m, $0.baseAddress!) }
        return out
    }

    /// Writes `serialized()` to `path`.
    /// - Throws: `ONNXExportError.io` naming the path.
    public func write(to path: String) throws {
        do { try Data(serialized()).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw ONNXExportError.io(path: path, "\(error.localizedDescription)")
        }
    }

    private func graph(_ a: Arena) -> UnsafeMutablePointer<Onnx__GraphProto> {
        let g = a.alloc(Onnx__GraphProto.self)
        onnx__graph_proto__init(g)
        g.pointee.name = a.string(graphName)
        g.pointee.n_node = nodes.count
        g.pointee.node = a.array(nodes.map { node($0, a) })
        g.pointee.n_initializer = initializers.count
        g.pointee.initializer = a.array(initializers.map { tensor($0, a) })
        g.pointee.n_input = inputs.count
        g.pointee.input = a.array(inputs.map { valueInfo($0, a) })
        g.pointee.n_output = outputs.count
        g.pointee.output = a.array(outputs.map { valueInfo($0, a) })
        return g
    }

    private func node(_ n: ONNXNode, _ a: Arena) -> UnsafeMutablePointer<Onnx__NodeProto> {
        let p = a.alloc(Onnx__NodeProto.self)
        onnx__node_proto__init(p)
        p.pointee.name = a.string(n.name)
        p.pointee.op_type = a.string(n.opType)
        p.pointee.n_input = n.inputs.count
        p.pointee.input = a.array(n.inputs.map { a.string($0) })
        p.pointee.n_output = n.outputs.count
        p.pointee.output = a.array(n.outputs.map { a.string($0) })
        p.pointee.n_attribute = n.attributes.count
        p.pointee.attribute = a.array(n.attributes.map { attribute($0.name, $0.value, a) })
        return p
    }

    private func attribute(_ name: String, _ value: ONNXAttributeValue, _ a: Arena) -> UnsafeMutablePointer<Onnx__AttributeProto> {
        let p = a.alloc(Onnx__AttributeProto.self)
        onnx__attribute_proto__init(p)
        p.pointee.name = a.string(name)
        p.pointee.has_type = 1
        switch value {
        case .int(let i):
            p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT
            p.pointee.has_i = 1
            p.pointee.i = Int64(i)
        case .float(let f):
            p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT
            p.pointee.has_f = 1
            p.pointee.f = f
        case .string(let s):
            p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING
            p.pointee.has_s = 1
            p.pointee.s = a.bytes(Array(s.utf8))
        case .ints(let v):
            p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS
            p.pointee.n_ints = v.count
            p.pointee.ints = a.array(v.map(Int64.init))
        case .floats(let v):
            p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS
            p.pointee.n_floats = v.count
            p.pointee.floats = a.array(v)
        case .strings(let v):
            p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS
            p.pointee.n_strings = v.count
            p.pointee.strings = a.array(v.map { a.bytes(Array($0.utf8)) })
        }
        return p
    }

    private func tensor(_ t: ONNXInitializer, _ a: Arena) -> UnsafeMutablePointer<Onnx__TensorProto> {
        let p = a.alloc(Onnx__TensorProto.self)
        onnx__tensor_proto__init(p)
        p.pointee.name = a.string(t.name)
        p.pointee.has_data_type = 1
        p.pointee.data_type = t.type.rawValue
        p.pointee.n_dims = t.dims.count
        p.pointee.dims = a.array(t.dims.map(Int64.init))
        p.pointee.has_raw_data = 1
        p.pointee.raw_data = a.bytes(t.rawData)
        return p
    }

    private func valueInfo(_ v: ONNXValue, _ a: Arena) -> UnsafeMutablePointer<Onnx__ValueInfoProto> {
        let shape = a.alloc(Onnx__TensorShapeProto.self)
        onnx__tensor_shape_proto__init(shape)
        shape.pointee.n_dim = v.shape.count
        shape.pointee.dim = a.array(v.shape.map { d in
            let dim = a.alloc(Onnx__TensorShapeProto__Dimension.self)
            onnx__tensor_shape_proto__dimension__init(dim)
            switch d {
            case .fixed(let n):
                dim.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                dim.pointee.dim_value = Int64(n)
            case .named(let s):
                dim.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                dim.pointee.dim_param = a.string(s)
            }
            return dim
        })
        let tt = a.alloc(Onnx__TypeProto__Tensor.self)
        onnx__type_proto__tensor__init(tt)
        tt.pointee.has_elem_type = 1
        tt.pointee.elem_type = v.type.rawValue
        tt.pointee.shape = shape
        let type = a.alloc(Onnx__TypeProto.self)
        onnx__type_proto__init(type)
        type.pointee.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
        type.pointee.tensor_type = tt
        let p = a.alloc(Onnx__ValueInfoProto.self)
        onnx__value_info_proto__init(p)
        p.pointee.name = a.string(v.name)
        p.pointee.type = type
        return p
    }
}

private typealias Arena = CAllocations

extension CAllocations {
    /// A protobuf-c bytes field holding a copy of `b`.
    func bytes(_ b: [UInt8]) -> ProtobufCBinaryData {
        let p = alloc(UInt8.self, count: b.count)
        b.withUnsafeBufferPointer { if let base = $0.baseAddress { p.update(from: base, count: b.count) } }
        return ProtobufCBinaryData(len: b.count, data: p)
    }
}
