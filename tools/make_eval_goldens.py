#!/usr/bin/python3
"""PyTorch golden values for the evaluation attacks (APGD's losses and step-size rule, Square's schedule).

Run with Debian's python3-torch (no other packages needed):

    /usr/bin/python3 tools/make_eval_goldens.py [--out FILE]

It reads the trained Net, the 8 test images x and labels y of src/test/resources/goldens/attack/
attack_goldens.safetensors (written by tools/make_attack_goldens.py) and writes, in float32:

  - dlr_loss [8], dlr_grad [8,3,32,32]: the DLR loss -(z_y - max_{j!=y} z_j) / (z_pi1 - z_pi3 + 1e-12)
    of Croce & Hein (ICML 2020) per image, and the gradient of its sum with respect to x;
  - dlr_t_target [8] (each image's most likely class other than y), dlr_t_loss, dlr_t_grad: the targeted
    DLR -(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4)/2 + 1e-12) and its input gradient;
  - apgd_eps, apgd_start [8,3,32,32] (a fixed random start in the eps-ball, clipped), and for APGD on the
    cross-entropy (ce), the DLR loss (dlr) and the cross-entropy in L2 (ce_l2, radius apgd_eps_l2, start
    apgd_start_l2), 20 iterations each: apgd_<loss>_steps [20, 8] (the step size used at each iteration),
    apgd_<loss>_losses [20, 8] (the loss after each iteration), apgd_<loss>_checkpoints (the iterations
    after which the step-size rule was checked) and apgd_<loss>_x (the result: the first misclassified
    point found, else the point of highest loss);
  - square_side [5000]: the Square attack's side of the square at each iteration of a 5000-query run on
    32 x 32 images (AutoAttack's schedule: p_init 0.8 halved after 10, 50, 200, 500, 1000, 2000, 4000,
    6000 and 8000 of 10,000 iterations, rescaled; side round(sqrt(p * 32 * 32)) within [1, 31]).

APGD here is written from the paper: x1 = P(x0 + eta * dir(grad)); then z = P(x + eta * dir(grad)),
x' = P(x + 0.75 (z - x) + 0.25 (x - x_prev)); eta starts at 2 eps; checkpoints after
max(int(0.22 n), 1) iterations, then intervals shorter by max(int(0.03 n), 1) down to max(int(0.06 n), 1);
at a checkpoint an image halves eta and restarts from its best point (and that point's gradient) when at
most 0.75 of the interval's iterations raised its loss, or when it did not halve last time and its best
loss has not grown since. P: x0 + clamp(x - x0, -eps, eps) (L-inf) or delta * min(1, eps / ||delta||) (L2),
then clamp to [0, 1]. dir: sign (L-inf) or grad / max(||grad||, 1e-12) (L2).
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_net import Net, write_safetensors  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GOLDENS = os.path.join(ROOT, "src", "test", "resources", "goldens", "attack")


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        a, b = spec["data_offsets"]
        values = np.frombuffer(data[a:b], dtype="<f4").copy()
        out[name] = torch.from_numpy(values.reshape(spec["shape"]))
    return out


def ce_loss(out, y, target=None):
    return F.cross_entropy(out, y, reduction="none")


def dlr_loss(out, y, target=None):
    srt, _ = out.sort(dim=1, descending=True)
    others = out.clone()
    others[torch.arange(len(y)), y] = -float("inf")
    best_other = others.max(dim=1).values
    return -(out[torch.arange(len(y)), y] - best_other) / (srt[:, 0] - srt[:, 2] + 1e-12)


def dlr_targeted_loss(out, y, target):
    srt, _ = out.sort(dim=1, descending=True)
    u = torch.arange(len(y))
    return -(out[u, y] - out[u, target]) / (srt[:, 0] - 0.5 * (srt[:, 2] + srt[:, 3]) + 1e-12)


def loss_and_grad(model, x, y, loss_fn, target=None):
    x = x.clone().requires_grad_(True)
    out = model(x)
    loss = loss_fn(out, y, target)
    grad, = torch.autograd.grad(loss.sum(), x)
    return loss.detach(), grad.detach(), (out.argmax(1) != y).detach()


def rows(t):
    return t.view(t.shape[0], -1)


def direction(grad, norm):
    if norm == "linf":
        return grad.sign()
    scale = torch.rsqrt(torch.clamp(rows(grad).pow(2).sum(1), min=1e-24))
    return grad * scale.view(-1, 1, 1, 1)


def project(x0, x, eps, norm):
    delta = x - x0
    if norm == "linf":
        delta = torch.clamp(delta, -eps, eps)
    else:
        scale = torch.clamp(eps * torch.rsqrt(torch.clamp(rows(delta).pow(2).sum(1), min=1e-24)), 0.0, 1.0)
        delta = delta * scale.view(-1, 1, 1, 1)
    return torch.clamp(x0 + delta, 0.0, 1.0)


def apgd(model, x0, y, start, eps, iterations, loss_fn, norm):
    n = len(y)
    x = start.clone()
    loss, grad, wrong = loss_and_grad(model, x, y, loss_fn)
    best_loss, x_best, grad_best = loss.clone(), x.clone(), grad.clone()
    x_fool, fooled = x.clone(), wrong.clone()
    previous_loss, best_at_check = loss.clone(), loss.clone()
    reduced = torch.ones(n, dtype=torch.bool)
    increases = torch.zeros(n)
    step = torch.full((n,), 2 * eps, dtype=torch.float32)
    interval = max(int(0.22 * iterations), 1)
    shrink, shortest = max(int(0.03 * iterations), 1), max(int(0.06 * iterations), 1)
    since = 0
    x_prev = x.clone()
    steps, losses, checkpoints = [], [], []
    for i in range(iterations):
        steps.append(step.clone())
        z = project(x0, x + step.view(-1, 1, 1, 1) * direction(grad, norm), eps, norm)
        if i == 0:
            x_prev, x = x, z
        else:
            move = x - x_prev
            x_prev = x
            x = project(x0, x + 0.75 * (z - x) + 0.25 * move, eps, norm)
        loss, grad, wrong = loss_and_grad(model, x, y, loss_fn)
        losses.append(loss.clone())
        x_fool[wrong] = x[wrong]
        fooled |= wrong
        increases += (loss > previous_loss).float()
        previous_loss = loss.clone()
        better = loss > best_loss
        best_loss[better] = loss[better]
        x_best[better] = x[better]
        grad_best[better] = grad[better]
        since += 1
        if since == interval:
            halve = (increases <= 0.75 * interval) | (~reduced & (best_at_check >= best_loss))
            reduced = halve.clone()
            best_at_check = best_loss.clone()
            increases.zero_()
            step[halve] /= 2
            x = x.clone()
            x[halve] = x_best[halve]
            grad[halve] = grad_best[halve]
            checkpoints.append(i + 1)
            interval = max(interval - shrink, shortest)
            since = 0
    result = torch.where(fooled.view(-1, 1, 1, 1), x_fool, x_best)
    return torch.stack(steps), torch.stack(losses), torch.tensor(checkpoints, dtype=torch.float32), result


def square_side(iteration, budget, height=32, width=32, p_init=0.8):
    scaled = int(iteration * 10000 // budget)
    p = p_init
    for halving in (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000):
        if scaled > halving:
            p /= 2
    return min(max(int(round(np.sqrt(p * height * width))), 1), height - 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(GOLDENS, "eval_goldens.safetensors"))
    args = parser.parse_args()
    src = read_safetensors(os.path.join(GOLDENS, "attack_goldens.safetensors"))
    model = Net()
    model.load_state_dict({k: v for k, v in src.items() if "." in k})
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    x, y = src["x"], src["y"].long()

    out = {}
    out["dlr_loss"], out["dlr_grad"], _ = loss_and_grad(model, x, y, dlr_loss)
    with torch.no_grad():
        logits = model(x)
        others = logits.clone()
        others[torch.arange(len(y)), y] = -float("inf")
        target = others.argmax(1)
    out["dlr_t_target"] = target.float()
    out["dlr_t_loss"], out["dlr_t_grad"], _ = loss_and_grad(model, x, y, dlr_targeted_loss, target)

    rng = np.random.default_rng(18)
    eps, eps_l2, iterations = float(np.float32(0.01)), float(np.float32(0.3)), 20
    start = torch.clamp(x + torch.from_numpy(rng.uniform(-eps, eps, size=x.shape).astype(np.float32)), 0, 1)
    direction_l2 = torch.from_numpy(rng.uniform(-1, 1, size=x.shape).astype(np.float32))
    start_l2 = project(x, x + eps_l2 * direction(direction_l2, "l2"), eps_l2, "l2")
    out["apgd_eps"], out["apgd_eps_l2"] = torch.tensor([eps]), torch.tensor([eps_l2])
    out["apgd_start"], out["apgd_start_l2"] = start, start_l2
    for name, loss_fn, norm, e, s in (("ce", ce_loss, "linf", eps, start), ("dlr", dlr_loss, "linf", eps, start),
                                      ("ce_l2", ce_loss, "l2", eps_l2, start_l2)):
        steps, losses, checkpoints, result = apgd(model, x, y, s, e, iterations, loss_fn, norm)
        out["apgd_%s_steps" % name], out["apgd_%s_losses" % name] = steps, losses
        out["apgd_%s_checkpoints" % name], out["apgd_%s_x" % name] = checkpoints, result
    out["square_side"] = torch.tensor([square_side(i, 5000) for i in range(5000)], dtype=torch.float32)
    size = write_safetensors(args.out, out, {"source": "tools/make_eval_goldens.py"})
    print("wrote %s (%d bytes)" % (args.out, size))


if __name__ == "__main__":
    main()
