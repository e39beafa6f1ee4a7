"""PyTorch side of TorchRoundTripTests (Tests/CohortRuntimeTests): the reference definitions
of the built-in models -- the layouts of the benchmark peers (shared/bench/peers
w1_mlp.py, w2_cnn.py, w3_gpt.py, w4_lstm.py), copied here with their sizes as arguments
so the tests can use small ones -- and the two directions of the round trip.

  init MODEL DIR SIZES     seeded random init -> DIR/torch.safetensors (safetensors.torch.save_file),
                           DIR/inputs.npy (64 inputs) and DIR/torch_logits.npy
  check MODEL DIR SIZES F  load_state_dict(load_file(F), strict=True), logits on DIR/inputs.npy
                           against DIR/cohort_logits.npy
  compare DIR              DIR/torch_logits.npy against DIR/cohort_logits.npy
  mnist-accuracy F MNIST   a CNN export F (--names torch) scored on MNIST's raw t10k images,
                           normalized as F's metadata says; prints `accuracy X`

SIZES is JSON (in, hidden, classes; vocab, ctx, layers, heads, d; emb). Prints
`max abs diff X`; exits 1 when X > 1e-5.
"""
import json
import sys

import numpy as np
import torch
from safetensors.torch import load_file, save_file

TOLERANCE = 1e-5


def build_mlp(nn, s):
    # w1_mlp.build_mlp: nn.Sequential(Linear, ReLU, Linear, ReLU, Linear), no Flatten.
    layers, width = [], s["in"]
    for h in s["hidden"]:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    return nn.Sequential(*layers, nn.Linear(width, s["classes"]))


def build_cnn(nn, s):
    # w2_cnn.build_cnn, verbatim.
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, stride=1, padding=0), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, stride=1, padding=0), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 5 * 5, 128), nn.ReLU(),
        nn.Linear(128, 10),
    )


def build_gpt(nn, s):
    # w3_gpt.build_gpt (tied, sdpa) with VOCAB, CTX, NLAYER, NHEAD, DMODEL from s.
    F = torch.nn.functional
    VOCAB, CTX, NLAYER, NHEAD, DMODEL = s["vocab"], s["ctx"], s["layers"], s["heads"], s["d"]

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(DMODEL, 3 * DMODEL)
            self.c_proj = nn.Linear(DMODEL, DMODEL)
            self.register_buffer(
                "mask", torch.tril(torch.ones(CTX, CTX, dtype=torch.bool)).view(1, 1, CTX, CTX),
                persistent=False)

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.c_attn(x).split(DMODEL, dim=2)
            hs = C // NHEAD
            q = q.view(B, T, NHEAD, hs).transpose(1, 2)
            k = k.view(B, T, NHEAD, hs).transpose(1, 2)
            v = v.view(B, T, NHEAD, hs).transpose(1, 2)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            y = y.transpose(1, 2).contiguous().view(B, T, C)
            return self.c_proj(y)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(DMODEL)
            self.attn = CausalSelfAttention()
            self.ln_2 = nn.LayerNorm(DMODEL)
            self.mlp = nn.Sequential(nn.Linear(DMODEL, 4 * DMODEL), nn.GELU(),
                                     nn.Linear(4 * DMODEL, DMODEL))

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            x = x + self.mlp(self.ln_2(x))
            return x

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(VOCAB, DMODEL)
            self.wpe = nn.Embedding(CTX, DMODEL)
            self.h = nn.ModuleList([Block() for _ in range(NLAYER)])
            self.ln_f = nn.LayerNorm(DMODEL)
            self.lm_head = nn.Linear(DMODEL, VOCAB, bias=False)
            self.lm_head.weight = self.wte.weight
            self.apply(self._init)

        @staticmethod
        def _init(m):
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, mean=0.0, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Embedding):
                nn.init.normal_(m.weight, mean=0.0, std=0.02)

        def logits(self, idx):   # W3's forward up to its loss
            B, T = idx.shape
            x = self.wte(idx) + self.wpe(torch.arange(T, dtype=torch.long))
            for blk in self.h:
                x = blk(x)
            return self.lm_head(self.ln_f(x))

    return GPT()


def build_lstm(nn, s):
    # w4_lstm.build_lstm with VOCAB, EMB, HID from s (num_layers=1, as W4).
    class CharLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(s["vocab"], s["emb"])
            self.lstm = nn.LSTM(s["emb"], s["hidden"][0], num_layers=1, batch_first=True)
            self.head = nn.Linear(s["hidden"][0], s["vocab"])

        def logits(self, idx):   # W4's forward up to its loss
            h, _ = self.lstm(self.emb(idx))
            return self.head(h)

    return CharLSTM()


BUILD = {"mlp": build_mlp, "cnn": build_cnn, "gpt": build_gpt, "lstm": build_lstm}


def inputs(model, s, g):
    if model == "mlp":
        return torch.randn(64, s["in"], generator=g)
    if model == "cnn":
        return torch.randn(64, 1, 28, 28, generator=g)
    return torch.randint(0, s["vocab"], (64, s["ctx"]), generator=g)


def logits(model, net, x):
    with torch.no_grad():
        return (net(x) if model in ("mlp", "cnn") else net.logits(x)).numpy()


def report(ours, theirs, what):
    assert ours.shape == theirs.shape, f"{what}: shapes {ours.shape} (torch) and {theirs.shape} (cohort)"
    diff = float(np.max(np.abs(ours.astype(np.float64) - theirs.astype(np.float64))))
    print(f"{what}: max abs diff {diff:.3g}")
    sys.exit(0 if diff <= TOLERANCE else 1)


def mnist_accuracy(export, mnist):
    import gzip
    from safetensors import safe_open
    with safe_open(export, "pt") as f:
        meta = f.metadata()
    norm = json.loads(meta["inference.normalization"])
    assert norm["kind"] == "pixels", norm
    shape = json.loads(meta["inference.input_shape"])
    with gzip.open(f"{mnist}/t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, *shape)
    with gzip.open(f"{mnist}/t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    x = (images.astype(np.float32) / norm["divide"] - norm["mean"]) / norm["std"]
    net = build_cnn(torch.nn, {}).eval()
    net.load_state_dict(load_file(export), strict=True)
    with torch.no_grad():
        predicted = net(torch.from_numpy(x)).argmax(1).numpy()
    print(f"accuracy {float((predicted == labels).mean()):.6f}")
    sys.exit(0)


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "mnist-accuracy":
        mnist_accuracy(*args)
    if mode == "compare":
        d = args[0]
        report(np.load(f"{d}/torch_logits.npy"), np.load(f"{d}/cohort_logits.npy"), "torch init -> cohort")
    model, d, s = args[0], args[1], json.loads(args[2])
    net = BUILD[model](torch.nn, s).eval()
    if mode == "init":
        g = torch.Generator().manual_seed(1)
        with torch.no_grad():   # random biases and norm gains too (not zeros and ones), so a wrong mapping cannot hide
            for p in net.parameters():
                if p.dim() == 1:
                    p.add_(torch.randn(p.shape, generator=g) * 0.1)
        x = inputs(model, s, g)
        np.save(f"{d}/inputs.npy", x.numpy().astype(np.float32))
        np.save(f"{d}/torch_logits.npy", logits(model, net, x))
        # save_file refuses tensors sharing storage (GPT's tied lm_head): save copies.
        save_file({k: v.detach().clone().contiguous() for k, v in net.state_dict().items()}, f"{d}/torch.safetensors")
        print("wrote", sorted(net.state_dict().keys()))
    elif mode == "check":
        net.load_state_dict(load_file(args[3]), strict=True)
        x = torch.from_numpy(np.load(f"{d}/inputs.npy"))
        x = x if model in ("mlp", "cnn") else x.long()
        report(logits(model, net, x), np.load(f"{d}/cohort_logits.npy"), "cohort export -> torch")
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
