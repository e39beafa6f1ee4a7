"""PyTorch side of TorchLayerTests (Tests/CohortNNTests): torch's outputs for
ConvTranspose2d (several configurations), Upsample (nearest and bilinear), Conv1d and
the activations (LeakyReLU, ELU, SiLU, Softplus, Mish, PReLU) on fixed inputs and weights.

Inputs and weights are not passed: both sides compute element i of a tensor with seed s
as float32(sin(0.731 * i + 1.37 * s)), scaled (see `fixed`). Prints one JSON object
{"torch": version, "cases": [{"name", "op", "params", "input": [shape, seed, scale],
"weight": [shape, seed, scale] | null, "bias": ... | null, "shape", "output"}]}.
"""
import json
import math
import sys

import torch
import torch.nn.functional as F


def fixed(shape, seed, scale=1.0):
    n = math.prod(shape)
    values = [scale * math.sin(0.731 * i + 1.37 * seed) for i in range(n)]
    return torch.tensor(values, dtype=torch.float64).to(torch.float32).reshape(shape)


def spec(shape, seed, scale=1.0):
    return [list(shape), seed, scale]


def main():
    torch.set_num_threads(1)
    cases = []

    def add(name, op, params, inp, out, weight=None, bias=None):
        cases.append({"name": name, "op": op, "params": params, "input": inp, "weight": weight, "bias": bias,
                      "shape": list(out.shape), "output": [float(v) for v in out.detach().reshape(-1).tolist()]})

    # ConvTranspose2d: (name, n, c, h, w, o, k, stride, padding, output_padding, groups, dilation, bias)
    conv_t = [
        ("plain", 2, 3, 4, 5, 2, (3, 3), (1, 1), (0, 0), (0, 0), 1, (1, 1), True),
        ("stride 2 padding 1 output padding 1", 2, 3, 4, 4, 4, (3, 3), (2, 2), (1, 1), (1, 1), 1, (1, 1), True),
        ("dcgan 4x4 stride 2", 1, 4, 3, 3, 2, (4, 4), (2, 2), (1, 1), (0, 0), 1, (1, 1), False),
        ("grouped strided", 2, 4, 3, 4, 6, (3, 2), (2, 3), (1, 0), (1, 2), 2, (1, 1), True),
        ("depthwise", 1, 3, 5, 4, 3, (3, 3), (2, 2), (1, 1), (0, 1), 3, (1, 1), True),
        ("dilated", 1, 2, 4, 3, 3, (2, 3), (1, 1), (1, 0), (0, 0), 1, (2, 2), True),
    ]
    for i, (name, n, c, h, w, o, k, s, p, op, g, d, b) in enumerate(conv_t):
        x, wt = spec((n, c, h, w), 10 + i), spec((c, o // g) + k, 20 + i, 0.5)
        bs = spec((o,), 30 + i) if b else None
        y = F.conv_transpose2d(fixed(*x), fixed(*wt), fixed(*bs) if bs else None, stride=s, padding=p,
                               output_padding=op, groups=g, dilation=d)
        add("ConvTranspose2d " + name, "convTranspose2d", {"stride": s, "padding": p, "output_padding": op, "groups": g,
                                                          "dilation": d}, x, y, wt, bs)

    # Upsample: by factor and to a size, up and down.
    for i, (mode, size, factor) in enumerate([("nearest", None, 2.0), ("nearest", (7, 3), None), ("nearest", None, 1.5),
                                               ("bilinear", None, 2.0), ("bilinear", (9, 12), None), ("bilinear", (3, 2), None),
                                               ("bilinear", None, 1.5)]):
        x = spec((2, 3, 4, 5), 40 + i)
        y = torch.nn.Upsample(size=size, scale_factor=factor, mode=mode)(fixed(*x))
        add(f"Upsample {mode} size {size} factor {factor}", "upsample", {"mode": mode, "size": size, "scale_factor": factor}, x, y)

    # Conv1d: (name, o, c, k, stride, padding, dilation, groups)
    for i, (name, o, c, k, s, p, d, g) in enumerate([("plain", 5, 3, 3, 1, 0, 1, 1), ("strided padded", 4, 4, 5, 2, 2, 1, 2),
                                                      ("dilated", 3, 2, 3, 1, 1, 2, 1)]):
        x, wt, bs = spec((2, c, 11), 50 + i), spec((o, c // g, k), 60 + i, 0.5), spec((o,), 70 + i)
        y = F.conv1d(fixed(*x), fixed(*wt), fixed(*bs), stride=s, padding=p, dilation=d, groups=g)
        add("Conv1d " + name, "conv1d", {"stride": s, "padding": p, "dilation": d, "groups": g}, x, y, wt, bs)

    # Activations on [2, 3, 40] inputs in ±25 (beyond softplus's threshold 20 and exp's overflow-safe range).
    x = spec((2, 3, 40), 80, 25.0)
    for name, module, params in [("LeakyReLU", torch.nn.LeakyReLU(), {}), ("LeakyReLU", torch.nn.LeakyReLU(0.2), {"negative_slope": 0.2}),
                                 ("ELU", torch.nn.ELU(), {}), ("ELU", torch.nn.ELU(0.7), {"alpha": 0.7}),
                                 ("SiLU", torch.nn.SiLU(), {}), ("Softplus", torch.nn.Softplus(), {}),
                                 ("Softplus", torch.nn.Softplus(beta=2, threshold=5), {"beta": 2, "threshold": 5}),
                                 ("Mish", torch.nn.Mish(), {})]:
        add(f"{name} {params}", name, params, x, module(fixed(*x)))
    xs = spec((2, 3, 40), 81, 3.0)
    for count in (1, 3):
        wt = spec((count,), 90 + count, 0.4)
        add(f"PReLU {count}", "PReLU", {}, xs, F.prelu(fixed(*xs), fixed(*wt)), wt)

    print(json.dumps({"torch": torch.__version__, "cases": cases}))


if __name__ == "__main__":
    sys.exit(main())
