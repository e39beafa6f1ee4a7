"""PyTorch reference for Cohort's tiny-Shakespeare runs (issue 6's validation-loss check).

Trains the *same-size* model as the peer benchmark script (W3 GPT from w3_gpt.py or
W4 char-LSTM from w4_lstm.py, imported from --peers so the architecture is theirs)
on exactly the data Cohort's `cohort train --data input.txt` uses, and prints the
validation loss measured the way Cohort measures it:

  * vocabulary: the corpus's distinct bytes, sorted (Cohort's CharTokenizer);
  * split: first 90 % of the tokens train, last 10 % validation;
  * training windows of CTX tokens every CTX/2 tokens, a shuffled pass per epoch;
  * LR: cosine with linear warm-up over max(steps/20, 1) steps down to lr/100;
  * validation: mean cross-entropy over the first 64 non-overlapping windows.

Initialisation and shuffling draw from PyTorch's generator, so the curves differ
from Cohort's in detail; what is compared is the loss after the same steps.

  venv/bin/python examples/shakespeare/torch_reference.py --model gpt --steps 300 \
      --peers ../shared/bench/peers --data ../shared/data/tiny-shakespeare/input.txt
"""
import argparse
import json
import math
import sys
import time


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=["gpt", "lstm"], required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--data", required=True, help="tiny-shakespeare input.txt")
    p.add_argument("--peers", required=True, help="directory with w3_gpt.py / w4_lstm.py")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-windows", type=int, default=64)
    a = p.parse_args()

    sys.path.insert(0, a.peers)
    import torch
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    if a.model == "gpt":
        import w3_gpt as peer
        model = peer.build_gpt(torch)
        ctx, batch = peer.CTX, peer.BATCH
        opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
    else:
        import w4_lstm as peer
        model = peer.build_lstm(torch)
        ctx, batch = peer.SEQ, peer.BATCH
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    base_lr = opt.param_groups[0]["lr"]

    raw = open(a.data, "rb").read()
    vocab = sorted(set(raw))
    if len(vocab) != peer.VOCAB:
        sys.exit(f"{a.data}: {len(vocab)} distinct bytes, the peer model has vocabulary {peer.VOCAB}")
    lookup = {b: i for i, b in enumerate(vocab)}
    ids = torch.tensor([lookup[b] for b in raw], dtype=torch.long)
    cut = len(ids) * 9 // 10
    train, val = ids[:cut], ids[cut:]
    stride = ctx // 2
    windows = (len(train) - ctx - 1) // stride + 1
    offsets = torch.arange(ctx)

    def rows(tokens, starts):
        idx = starts[:, None] + offsets[None, :]
        return tokens[idx], tokens[idx + 1]

    warmup = max(a.steps // 20, 1)
    minimum = base_lr * 0.01

    def lr_at(step):
        if step < warmup:
            return base_lr * (step + 1) / warmup
        t = min((step - warmup) / max(a.steps - warmup, 1), 1.0)
        return minimum + (base_lr - minimum) * 0.5 * (1 + math.cos(math.pi * t))

    order, position = torch.randperm(windows), 0
    t0 = time.time()
    model.train()
    for step in range(a.steps):
        if position + batch > windows:
            order, position = torch.randperm(windows), 0
        starts = order[position:position + batch] * stride
        position += batch
        x, y = rows(train, starts)
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        opt.zero_grad(set_to_none=True)
        loss = model(x, y)
        loss.backward()
        opt.step()
        if (step + 1) % 100 == 0:
            print(f"step {step + 1}/{a.steps} loss {loss.item():.4f}", file=sys.stderr)
    seconds = time.time() - t0

    model.eval()
    n = min(a.val_windows, (len(val) - ctx - 1) // ctx + 1)
    total = 0.0
    with torch.no_grad():
        for s in range(0, n, 16):
            starts = torch.arange(s, min(s + 16, n)) * ctx
            x, y = rows(val, starts)
            total += model(x, y).item() * len(starts)
    print(json.dumps({"model": a.model, "steps": a.steps, "batch": batch, "context": ctx,
                      "val_loss": total / n, "train_seconds": seconds, "threads": a.threads}))


if __name__ == "__main__":
    main()
