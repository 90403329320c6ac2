#!/usr/bin/python3
"""PyTorch golden values for the attacks: FGSM and 3-step PGD adversarial images on a small batch.

Run with Debian's python3-torch (no other packages needed):

    /usr/bin/python3 tools/make_attack_goldens.py [--data DIR] [--out FILE]

It trains the seed's Net briefly (so its gradients are those of a real classifier, not of a random
one), takes the first 8 CIFAR-10 test images, and writes one safetensors file holding:

  - the Net's weights under their PyTorch state_dict names (conv1.weight, ..., fc3.bias);
  - x [8,3,32,32] in [0,1] and y [8] (labels as float32, as advtrain stores them);
  - eps, alpha (L-inf) and eps_l2, alpha_l2 as 1-element tensors, exact float32 values;
  - fgsm:          clip(x + eps*sign(grad))                                 (the seed's Eq. 1)
  - pgd3:          3 steps of alpha, projected onto the L-inf eps-ball around x, clipped (Eq. 2)
  - pgd3_l2:       3 steps of alpha_l2 along grad/||grad||, projected onto the L2 ball of eps_l2
  - target_ll:     each image's least likely class under the model (first index on ties)
  - pgd3_targeted: 3 steps of PGD that LOWER the loss of target_ll (x - alpha*sign(grad))

The attack arithmetic is written as Foolbox and torchattacks write it, in float32:
delta = clamp(x_adv - x, -eps, eps); x_adv = clamp(x + delta, 0, 1). The loss is NLLLoss with the
mean over the batch, on the log-softmax output of the Net (which normalises with mean 0.5, std 0.5
inside). The safetensors file is written by tools/torch_net.py (struct + json): an 8-byte little-endian header
length, a JSON header {name: {dtype, shape, data_offsets}}, then the raw little-endian data.
"""
import argparse
import gzip
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_net import ROOT, Net, find_data, write_safetensors  # noqa: E402  (the shared Net and writer)


def read_batch(folder, name, count):
    path = os.path.join(folder, name + ".bin")
    opener = open
    if not os.path.exists(path):
        path += ".gz"
        opener = gzip.open
    with opener(path, "rb") as f:
        raw = np.frombuffer(f.read(count * 3073), dtype=np.uint8).reshape(count, 3073)
    labels = raw[:, 0].astype(np.int64)
    images = raw[:, 1:].reshape(count, 3, 32, 32).astype(np.float32) * np.float32(1 / 255)
    return torch.from_numpy(images.copy()), torch.from_numpy(labels)


def input_grad(model, x, target):
    x = x.clone().requires_grad_(True)
    loss = F.nll_loss(model(x), target)
    (grad,) = torch.autograd.grad(loss, x)
    return grad


def fgsm(model, x, y, eps):
    adv = x + eps * input_grad(model, x, y).sign()
    return torch.clamp(adv, 0, 1)


def pgd_linf(model, x, y, eps, alpha, steps, targeted=False):
    adv = x.clone()
    for _ in range(steps):
        step = alpha * input_grad(model, adv, y).sign()
        adv = adv - step if targeted else adv + step
        delta = torch.clamp(adv - x, -eps, eps)
        adv = torch.clamp(x + delta, 0, 1)
    return adv


def l2_norms(t):
    return torch.clamp(t.flatten(1).norm(p=2, dim=1), min=1e-12).view(-1, 1, 1, 1)


def pgd_l2(model, x, y, eps, alpha, steps):
    adv = x.clone()
    for _ in range(steps):
        g = input_grad(model, adv, y)
        adv = adv + alpha * (g / l2_norms(g))
        delta = adv - x
        delta = delta * torch.clamp(eps / l2_norms(delta), max=1.0)
        adv = torch.clamp(x + delta, 0, 1)
    return adv


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="CIFAR-10 binary folder")
    parser.add_argument("--out", default=os.path.join(ROOT, "src", "test", "resources", "goldens", "attack", "attack_goldens.safetensors"))
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    folder = find_data(args.data)

    model = Net()
    train_x, train_y = read_batch(folder, "data_batch_1", 2000)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for epoch in range(3):
        for i in range(0, 2000, 32):
            opt.zero_grad()
            F.nll_loss(model(train_x[i:i + 32]), train_y[i:i + 32]).backward()
            opt.step()
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)

    x, y = read_batch(folder, "test_batch", 8)
    eps = float(np.float32(0.03))
    alpha = float(np.float32(0.0125))      # 3 steps of 0.0125 overshoot 0.03: the projection acts
    eps_l2 = float(np.float32(0.5))
    alpha_l2 = float(np.float32(0.25))
    with torch.no_grad():
        target_ll = model(x).argmin(dim=1)
    out = dict(model.state_dict())
    out.update({
        "x": x, "y": y.float(),
        "eps": torch.tensor([eps]), "alpha": torch.tensor([alpha]),
        "eps_l2": torch.tensor([eps_l2]), "alpha_l2": torch.tensor([alpha_l2]),
        "fgsm": fgsm(model, x, y, eps),
        "pgd3": pgd_linf(model, x, y, eps, alpha, 3),
        "pgd3_l2": pgd_l2(model, x, y, eps_l2, alpha_l2, 3),
        "target_ll": target_ll.float(),
        "pgd3_targeted": pgd_linf(model, x, target_ll, eps, alpha, 3, targeted=True),
    })
    with torch.no_grad():
        acc = (model(x).argmax(1) == y).float().mean().item()
        for name in ("fgsm", "pgd3"):
            print(f"{name}: accuracy {(model(out[name]).argmax(1) == y).float().mean().item():.3f} (clean {acc:.3f})")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    write_safetensors(args.out, out)
    print("wrote", os.path.relpath(args.out, ROOT), f"({os.path.getsize(args.out)} bytes)")


if __name__ == "__main__":
    main()
