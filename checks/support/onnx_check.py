#!/usr/bin/env python3
"""Checks an ONNX file Cohort exported against Cohort's own outputs.

Usage: onnx_check.py MODEL.onnx INPUTS.npy EXPECTED.npy [basic|all]

Runs onnx.checker.check_model (full check, with shape inference), then ONNX
Runtime (1 thread) on all inputs at once (batch N) and on each input alone
(batch 1), and prints one JSON object: the max abs difference to EXPECTED at
each batch size, the input/output names and shapes as declared, the opset and
metadata_props. Exit status 0 unless the file fails to load or check.
The optional last argument is ONNX Runtime's graph optimization level (default
all); `basic` keeps the graph's own arithmetic: at `all` ONNX Runtime fuses a
DequantizeLinear feeding a MatMul into its own int8 kernel (MatMulNBits), whose
results differ from the dequantized float graph by a quantization-sized amount.
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort


def main():
    path, inputs_path, expected_path = sys.argv[1:4]
    level = sys.argv[4] if len(sys.argv) > 4 else "all"
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    x = np.load(inputs_path)
    expected = np.load(expected_path)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = {"basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
                                     "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}[level]
    sess = ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    if inp.type == "tensor(int64)":
        x = x.astype(np.int64)
    else:
        x = x.astype(np.float32)
    out_all = sess.run(None, {inp.name: x})[0]
    out_one = np.concatenate([sess.run(None, {inp.name: x[i:i + 1]})[0] for i in range(x.shape[0])], axis=0)

    def diff(a):
        if a.shape != expected.shape:
            return {"shape": list(a.shape), "expected_shape": list(expected.shape)}
        return float(np.max(np.abs(a.astype(np.float64) - expected.astype(np.float64))))

    report = {
        "checked": True,
        "optimization": level,
        "opset": [{"domain": o.domain, "version": o.version} for o in model.opset_import],
        "ir_version": model.ir_version,
        "input": {"name": inp.name, "type": inp.type, "shape": [str(d) for d in inp.shape]},
        "output": {"name": sess.get_outputs()[0].name, "shape": [str(d) for d in sess.get_outputs()[0].shape]},
        "batch": int(x.shape[0]),
        "max_abs_batch_n": diff(out_all),
        "max_abs_batch_1": diff(out_one),
        "metadata": {p.key: p.value for p in model.metadata_props},
        "ops": sorted({n.op_type for n in model.graph.node}),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
