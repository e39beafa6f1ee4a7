"""Pre-trains the W2 reference CNN in PyTorch on MNIST and saves its state_dict as safetensors.

examples/transfer imports the file into Cohort with
    cohort train --model cnn --init-from OUT --name-map torch ...
so the network is exactly W2's (../shared/bench/peers/w2_cnn.py, build_cnn):
conv(1->32, 3x3) ReLU maxpool2, conv(32->64, 3x3) ReLU maxpool2, flatten, Linear(1600, 128)
ReLU, Linear(128, 10) -- with PyTorch's own names (0.*, 3.*, 7.*, 9.*) and PyTorch's own
initialisation. Pixels are normalised as Cohort normalises MNIST-format images:
(x / 255 - 0.1307) / 0.3081, so the features transfer to Cohort unchanged.

Run it with the reference venv (`make deps`: ~/.cache/cohort-venv has torch and safetensors):
    ~/.cache/cohort-venv/bin/python examples/transfer/pretrain_torch.py \
        --data ../shared/data/mnist --out runs/transfer/torch-mnist.safetensors
"""

import argparse
import gzip
import os
import struct

import numpy as np
import torch
from safetensors.torch import save_file

MEAN, STD = 0.1307, 0.3081


def build_cnn():
    """The W2 reference CNN (w2_cnn.build_cnn), layer for layer."""
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, stride=1, padding=0), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, stride=1, padding=0), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 5 * 5, 128), nn.ReLU(),
        nn.Linear(128, 10),
    )


def read_idx(path):
    """An IDX file (gzip-compressed or raw) as a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, dims = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise SystemExit(f"{path}: not an unsigned-byte IDX file")
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(directory, prefix):
    def find(kind, ext):
        for name in (f"{prefix}-{kind}-{ext}-ubyte.gz", f"{prefix}-{kind}-{ext}-ubyte"):
            if os.path.exists(os.path.join(directory, name)):
                return os.path.join(directory, name)
        raise SystemExit(f"{directory}: no {prefix}-{kind}-{ext}-ubyte(.gz)")
    images = read_idx(find("images", "idx3")).astype(np.float32) / 255.0
    labels = read_idx(find("labels", "idx1")).astype(np.int64)
    x = torch.from_numpy((images - MEAN) / STD).unsqueeze(1)
    return x, torch.from_numpy(labels)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="MNIST-format directory (the four IDX files)")
    p.add_argument("--out", required=True, help="the .safetensors file to write")
    p.add_argument("--epochs", type=float, default=1.0, help="passes over the training set (default 1)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    a = p.parse_args()
    torch.manual_seed(a.seed)
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    x, y = load(a.data, "train")
    xt, yt = load(a.data, "t10k")
    model = build_cnn()
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    steps = int(a.epochs * len(x) // a.batch)
    g = torch.Generator().manual_seed(a.seed)
    order = torch.randperm(len(x), generator=g)
    model.train()
    for step in range(steps):
        start = (step * a.batch) % len(x)
        if start + a.batch > len(x):
            order = torch.randperm(len(x), generator=g)
            start = 0
        idx = order[start:start + a.batch]
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        if (step + 1) % 200 == 0 or step + 1 == steps:
            print(f"step {step + 1}/{steps} loss {loss.item():.4f}", flush=True)
    model.eval()
    with torch.no_grad():
        correct = sum(int((model(xt[i:i + 1000]).argmax(1) == yt[i:i + 1000]).sum()) for i in range(0, len(xt), 1000))
    accuracy = correct / len(xt)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, a.out, metadata={"source": "examples/transfer/pretrain_torch.py", "model": "w2_cnn",
                                      "normalization": f"(x/255-{MEAN})/{STD}", "steps": str(steps),
                                      "mnist_test_accuracy": f"{accuracy:.4f}"})
    print(f"done: {steps} steps, MNIST test accuracy {accuracy * 100:.2f}%, wrote {a.out} "
          f"({', '.join(f'{k} {list(v.shape)}' for k, v in state.items())})")


if __name__ == "__main__":
    main()
