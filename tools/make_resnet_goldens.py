#!/usr/bin/python3
"""Writes the PyTorch goldens of advtrain's ResNets into src/test/resources/goldens/resnet/.

    /usr/bin/python3 tools/make_resnet_goldens.py [--data DIR]     # regenerate (deterministic)
    /usr/bin/python3 tools/make_resnet_goldens.py --check FILE     # load an advtrain model file in PyTorch

The networks are those of tools/resnet_cifar.py; the images are the first records of the real
CIFAR-10 files in file order (--data DIR, else where advtrain's commands look). The tests read the
images they need from the committed sample, which holds the same first records. Files:

  layouts.json          for resnet20 and preact-resnet18: the state_dict as PyTorch lists it, in
                        order, each entry [name, dtype, shape]; advtrain's must be the same.
  resnet20_trained.safetensors
                        a ResNet-20 trained by PyTorch (float32, its own initialisation, seed 0) for
                        TRAIN_EPOCHS epochs on the first TRAIN_IMAGES training images, written as a
                        PyTorch user would: its state_dict, num_batches_tracked as I64, and
                        metadata {"format": "pt", "arch": "resnet20"}.
  resnet20_eval.safetensors
                        for those weights, computed in float64: eval_log_probs and train_log_probs
                        ([8, 10], the first 8 test images in evaluation and in training mode),
                        after_train.<buffer> (batch norm buffers after that training-mode pass),
                        and on the first EVAL_IMAGES test images the predicted classes clean
                        (clean_pred) and after PGD (pgd_pred: EVAL_STEPS steps of eps/4 from the
                        image, L-inf EVAL_EPS, NLL loss, as advtrain's attack --attack pgd does).
  preact_forward.safetensors
                        PreActResNet18 with resnet_cifar.hash_init's weights, in float64, on the first
                        2 test images: eval_log_probs and train_log_probs [2, 10]; in training mode
                        the NLL loss, its input_grad, and per parameter grad_norm.<name> (the
                        gradient's L2 norm) and grad_head.<name> (its first GRAD_HEAD values, flat).
  resnet20_epoch.safetensors
                        THE PARITY GOLDEN: one epoch of SGD (lr PARITY_LR, momentum 0.9, batch
                        PARITY_BATCH) in training mode on the first PARITY_IMAGES training images
                        in file order, from resnet_cifar.hash_init's weights, computed in float64:
                        the whole state_dict afterwards (weights and batch norm buffers) and
                        losses [steps].

Every float64 result is rounded to float32 when written: the goldens are the exact answers within
float32 rounding, so the tests compare advtrain with the mathematics, not with PyTorch's float32.
"""
import copy
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resnet_cifar import (ARCHITECTURES, ROOT, PreActResNet18, ResNet20, hash_init,  # noqa: E402
                          load_advtrain_file, read_cifar, read_safetensors, write_safetensors)
from torch_net import find_data  # noqa: E402

OUT = os.path.join(ROOT, "src", "test", "resources", "goldens", "resnet")
TRAIN_IMAGES, TRAIN_EPOCHS, TRAIN_BATCH, TRAIN_LR = 1000, 8, 32, 0.05
FORWARD_IMAGES = 8
EVAL_IMAGES, EVAL_EPS, EVAL_STEPS = 100, 1 / 255, 10
PARITY_IMAGES, PARITY_BATCH, PARITY_LR = 64, 16, 0.001
GRAD_HEAD = 64


def layouts():
    out = {}
    for name, cls in ARCHITECTURES.items():
        state = cls().state_dict()
        out[name] = [[k, "I64" if v.dtype == torch.int64 else "F32", list(v.shape)] for k, v in state.items()]
    return out


def write_layouts():
    """layouts.json, one state_dict entry a line."""
    arches = ["%s: [\n%s\n]" % (json.dumps(arch), ",\n".join(json.dumps(e, separators=(",", ":")) for e in entries))
              for arch, entries in layouts().items()]
    with open(os.path.join(OUT, "layouts.json"), "w") as f:
        f.write("{\n" + ",\n".join(arches) + "\n}\n")


def train_resnet20(folder):
    torch.manual_seed(0)
    model = ResNet20()
    images, labels = read_cifar(folder, "data_batch_1", TRAIN_IMAGES)
    opt = torch.optim.SGD(model.parameters(), lr=TRAIN_LR, momentum=0.9, weight_decay=5e-4)
    gen = torch.Generator().manual_seed(0)
    model.train()
    for epoch in range(TRAIN_EPOCHS):
        order = torch.randperm(len(images), generator=gen)
        total = 0.0
        for b in range(0, len(images), TRAIN_BATCH):
            idx = order[b:b + TRAIN_BATCH]
            opt.zero_grad()
            loss = F.nll_loss(model(images[idx]), labels[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        print("  epoch %d: train loss %.4f" % (epoch + 1, total / len(images)))
    return model


def pgd(model, x, y, eps, steps):
    alpha = eps / 4
    adv = x.clone()
    for _ in range(steps):
        adv.requires_grad_(True)
        (grad,) = torch.autograd.grad(F.nll_loss(model(adv), y), adv)
        adv = adv.detach() + alpha * grad.sign()
        adv = torch.clamp(x + torch.clamp(adv - x, -eps, eps), 0, 1)
    return adv


def eval_goldens(folder, state):
    model = ResNet20().double()
    model.load_state_dict(state, strict=True)
    images, labels = read_cifar(folder, "test_batch", EVAL_IMAGES)
    images = images.double()
    out = {}
    model.eval()
    with torch.no_grad():
        out["eval_log_probs"] = model(images[:FORWARD_IMAGES])
        clean = model(images).argmax(1)
    adv = pgd(model, images, labels, EVAL_EPS, EVAL_STEPS)
    with torch.no_grad():
        robust = model(adv).argmax(1)
    trained = copy.deepcopy(model).train()
    with torch.no_grad():
        out["train_log_probs"] = trained(images[:FORWARD_IMAGES])
    for name, t in trained.state_dict().items():
        if "running" in name or "num_batches" in name:
            out["after_train." + name] = t
    out["clean_pred"] = clean.double()
    out["pgd_pred"] = robust.double()
    clean_correct = int((clean == labels).sum())
    robust_correct = int((robust == labels).sum())
    print("  eval on %d test images: clean %d correct, PGD-%d eps=1/255 %d correct" % (
        EVAL_IMAGES, clean_correct, EVAL_STEPS, robust_correct))
    meta = {"images": EVAL_IMAGES, "forward_images": FORWARD_IMAGES, "eps": repr(EVAL_EPS), "steps": EVAL_STEPS,
            "clean_correct": clean_correct, "pgd_correct": robust_correct, "source": "tools/make_resnet_goldens.py"}
    return out, meta


def preact_forward(folder):
    model = hash_init(PreActResNet18()).double()
    images, labels = read_cifar(folder, "test_batch", 2)
    out = {}
    with torch.no_grad():
        out["eval_log_probs"] = model.eval()(images.double())
        out["train_log_probs"] = model.train()(images.double())
    # The backward pass in training mode: the loss, the input gradient and, for each parameter, its
    # gradient's norm and first GRAD_HEAD values (the whole gradients would be 45 MB).
    x = images.double().requires_grad_(True)
    loss = F.nll_loss(model.train()(x), labels)
    loss.backward()
    out["labels"] = labels.double()
    out["loss"] = loss.detach().reshape(1)
    out["input_grad"] = x.grad
    for name, p in model.named_parameters():
        g = p.grad.flatten()
        out["grad_norm." + name] = g.norm().reshape(1)
        out["grad_head." + name] = g[:GRAD_HEAD].clone()
    return out, {"images": 2, "grad_head": GRAD_HEAD, "init": "resnet_cifar.hash_init", "source": "tools/make_resnet_goldens.py"}


def parity_golden(folder):
    model = hash_init(ResNet20()).double()
    images, labels = read_cifar(folder, "data_batch_1", PARITY_IMAGES)
    images = images.double()
    opt = torch.optim.SGD(model.parameters(), lr=PARITY_LR, momentum=0.9)
    model.train()
    losses = []
    for b in range(0, PARITY_IMAGES, PARITY_BATCH):
        opt.zero_grad()
        loss = F.nll_loss(model(images[b:b + PARITY_BATCH]), labels[b:b + PARITY_BATCH])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    print("  parity epoch: losses " + ", ".join("%.5f" % v for v in losses))
    out = dict(model.state_dict())
    out["losses"] = torch.tensor(losses, dtype=torch.float64)
    meta = {"images": PARITY_IMAGES, "batch": PARITY_BATCH, "lr": repr(PARITY_LR), "momentum": "0.9",
            "init": "resnet_cifar.hash_init", "source": "tools/make_resnet_goldens.py"}
    return out, meta


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        model = load_advtrain_file(sys.argv[2])
        print("%s: load_state_dict(strict=True) into %s accepted it" % (sys.argv[2], type(model).__name__))
        return
    if len(sys.argv) not in (1, 3) or (len(sys.argv) == 3 and sys.argv[1] != "--data"):
        raise SystemExit(__doc__.split("\n\n")[1])
    folder = find_data(sys.argv[2] if len(sys.argv) == 3 else None)
    torch.set_num_threads(2)
    os.makedirs(OUT, exist_ok=True)
    write_layouts()
    print("training a ResNet-20 for %d epochs on the first %d training images of %s" % (TRAIN_EPOCHS, TRAIN_IMAGES, folder))
    model = train_resnet20(folder)
    trained = os.path.join(OUT, "resnet20_trained.safetensors")
    size = write_safetensors(trained, model.state_dict(), {"format": "pt", "arch": "resnet20"})
    print("  wrote %s (%d bytes)" % (trained, size))
    state, _ = read_safetensors(trained)  # exactly the float32 weights the tests load
    tensors, meta = eval_goldens(folder, state)
    print("  wrote resnet20_eval (%d bytes)" % write_safetensors(os.path.join(OUT, "resnet20_eval.safetensors"), tensors, meta))
    tensors, meta = preact_forward(folder)
    print("  wrote preact_forward (%d bytes)" % write_safetensors(os.path.join(OUT, "preact_forward.safetensors"), tensors, meta))
    tensors, meta = parity_golden(folder)
    print("  wrote resnet20_epoch (%d bytes)" % write_safetensors(os.path.join(OUT, "resnet20_epoch.safetensors"), tensors, meta))


if __name__ == "__main__":
    main()
