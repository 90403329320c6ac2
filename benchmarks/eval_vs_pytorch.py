#!/usr/bin/python3
"""PyTorch side of the evaluation-attack comparison: APGD-CE and Square (L-inf) on the first N CIFAR-10
test images, written for the purpose (same algorithms as advtrain's Apgd and SquareAttack).

    /usr/bin/python3 benchmarks/eval_vs_pytorch.py --model FILE --data DIR [--n 1000] [--eps 8/255]
        [--steps 100] [--queries 5000] [--batch 256] [--threads 2] [--attacks apgd-ce,square]

Prints one JSON line per attack: {"engine": "pytorch", "attack", "n", "seconds", "robust_accuracy",
"queries_mean"}. APGD is tools/make_eval_goldens.py's (the reference the goldens come from), with a
random start in the eps-box; Square is written here, vectorised over the batch (one window position
and one sign per channel for each image, as in the paper), with AutoAttack's p schedule (p_init 0.8).
Both attack only the images the model classifies correctly, as advtrain does.
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from make_eval_goldens import apgd, ce_loss, read_safetensors, square_side  # noqa: E402
from torch_net import Net  # noqa: E402


def test_images(folder, n):
    path = os.path.join(folder, "test_batch.bin")
    raw = open(path, "rb").read() if os.path.exists(path) else gzip.open(path + ".gz", "rb").read()
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3073)[:n]
    x = torch.from_numpy(records[:, 1:].astype(np.float32).reshape(-1, 3, 32, 32) / 255.0)
    return x, torch.from_numpy(records[:, 0].astype(np.int64))


def margin(out, y):
    others = out.clone()
    others[torch.arange(len(y)), y] = -float("inf")
    return out[torch.arange(len(y)), y] - others.max(dim=1).values


@torch.no_grad()
def square(model, x0, y, eps, budget, generator):
    n, c, h, w = x0.shape
    stripes = (torch.randint(0, 2, (n, c, 1, w), generator=generator).float() * 2 - 1) * eps
    best = torch.clamp(x0 + stripes, 0, 1)
    best_margin = margin(model(best), y)
    queries = torch.ones(n)
    rows = torch.arange(h).view(1, 1, h, 1)
    cols = torch.arange(w).view(1, 1, 1, w)
    for iteration in range(1, budget):
        active = (best_margin > 0).nonzero().flatten()
        if len(active) == 0:
            break
        s = square_side(iteration - 1, budget, h, w)
        m = len(active)
        top = torch.randint(0, h - s + 1, (m, 1, 1, 1), generator=generator)
        left = torch.randint(0, w - s + 1, (m, 1, 1, 1), generator=generator)
        window = (rows >= top) & (rows < top + s) & (cols >= left) & (cols < left + s)
        signs = (torch.randint(0, 2, (m, c, 1, 1), generator=generator).float() * 2 - 1) * eps
        candidate = torch.where(window, torch.clamp(x0[active] + signs, 0, 1), best[active])
        new_margin = margin(model(candidate), y[active])
        queries[active] += 1
        better = new_margin < best_margin[active]
        best[active[better]] = candidate[better]
        best_margin[active[better]] = new_margin[better]
    return best, queries


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--eps", default="8/255")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--queries", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--attacks", default="apgd-ce,square")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    num, _, den = args.eps.partition("/")
    eps = float(np.float32(float(num) / float(den or 1)))
    model = Net()
    model.load_state_dict({k: v for k, v in read_safetensors(args.model).items() if "." in k})
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    x, y = test_images(args.data, args.n)
    with torch.no_grad():
        right = model(x).argmax(1) == y
    for attack in args.attacks.split(","):
        generator = torch.Generator().manual_seed(0)
        robust, queries = right.clone(), []
        start = time.perf_counter()
        todo = right.nonzero().flatten()
        for i in range(0, len(todo), args.batch):
            idx = todo[i:i + args.batch]
            x0, labels = x[idx], y[idx]
            if attack == "apgd-ce":
                begin = torch.clamp(x0 + (torch.rand(x0.shape, generator=generator) * 2 - 1) * eps, 0, 1)
                adv = apgd(model, x0, labels, begin, eps, args.steps, ce_loss, "linf")[3]
            else:
                adv, used = square(model, x0, labels, eps, args.queries, generator)
                queries.append(used)
            with torch.no_grad():
                robust[idx] = model(adv).argmax(1) == labels
        seconds = time.perf_counter() - start
        row = {"engine": "pytorch", "attack": attack, "n": args.n, "seconds": seconds,
               "robust_accuracy": robust.float().mean().item()}
        if queries:
            row["queries_mean"] = torch.cat(queries).mean().item()
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
