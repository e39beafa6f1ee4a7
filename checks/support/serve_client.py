#!/usr/bin/env python3
"""A real Open Inference Protocol client against `cohort serve`: tritonclient[http].

    serve_client.py URL MODEL ROWS.json OUT.json

URL is host:port; ROWS.json is a list of input rows (lists of floats). The script checks
liveness, readiness and the model's metadata, runs infer on the first row (batch 1) and on
all rows (batch len(rows)), sends one request with a wrong shape (which must fail with an
error naming the shape), and writes {"metadata", "batch1", "batchN", "error"} to OUT.json.
Exit 1 with a message on any protocol failure.
"""
import json
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException


def infer(client, model, meta, rows):
    inp = meta["inputs"][0]
    x = np.asarray(rows, dtype=np.float32)
    t = httpclient.InferInput(inp["name"], list(x.shape), inp["datatype"])
    t.set_data_from_numpy(x, binary_data=False)
    out = httpclient.InferRequestedOutput(meta["outputs"][0]["name"], binary_data=False)
    result = client.infer(model, inputs=[t], outputs=[out])
    y = result.as_numpy(meta["outputs"][0]["name"])
    if y is None or y.shape[0] != x.shape[0]:
        sys.exit(f"infer on {x.shape[0]} rows returned {None if y is None else y.shape}")
    return y.tolist()


def main():
    url, model, rows_path, out_path = sys.argv[1:5]
    rows = json.load(open(rows_path))
    client = httpclient.InferenceServerClient(url=url)
    if not client.is_server_live() or not client.is_server_ready():
        sys.exit("server is not live and ready")
    if not client.is_model_ready(model):
        sys.exit(f"model {model} is not ready")
    meta = client.get_model_metadata(model)
    result = {"metadata": meta, "batch1": infer(client, model, meta, rows[:1]), "batchN": infer(client, model, meta, rows)}
    inp = meta["inputs"][0]
    bad = httpclient.InferInput(inp["name"], [1, 3], inp["datatype"])
    bad.set_data_from_numpy(np.zeros((1, 3), dtype=np.float32), binary_data=False)
    try:
        client.infer(model, inputs=[bad])
        sys.exit("a [1, 3] input was accepted")
    except InferenceServerException as e:
        result["error"] = str(e)
    json.dump(result, open(out_path, "w"))


if __name__ == "__main__":
    main()
