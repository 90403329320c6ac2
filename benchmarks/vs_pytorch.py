#!/usr/bin/python3
"""The PyTorch half of the side-by-side benchmark (benchmarks/vs_pytorch.sh), and its report.

    vs_pytorch.py measure [--threads 2] [--repeats 5] [--seconds 1.0] [--workloads a,b] > torch.json
    vs_pytorch.py report --torch torch1.json [torch2.json ...] --advtrain ours1.json [ours2.json ...]

`measure` times the same workloads as advtrain.bench.SideBySide, with the same definitions (see
WORKLOADS below and SideBySide.java): the seed's Net (the PyTorch tutorial's CIFAR-10 network with
the (x - 0.5) / 0.5 normalisation as its first step, as advtrain's Net has it), random images in
[0, 1] of CIFAR shape, random labels. Each workload is warmed up, then timed `repeats` times over
windows of at least `seconds`; the median images/s is reported. Inference runs under
torch.no_grad(); the input gradient freezes every parameter (requires_grad False) so backward
computes d loss / d input alone. FGSM and PGD-10 (eps 8/255, L-inf, PGD: 10 steps of eps/4 from the
clean image, projected onto the eps-box around the original and clipped to [0, 1] after each step)
freeze the parameters the same way. The Goodfellow epoch is one epoch of the seed's Eq. 3 (FGSM at
eps 8/255, mix 0.5) over 50,000 random byte images at batch 32: a fresh permutation, each batch
indexed and turned into floats / 255, the adversarial batch crafted with torch.autograd.grad (input
gradient only), then 0.5 * clean loss + 0.5 * adversarial loss, backward, SGD.
Run it with Debian's /usr/bin/python3 (python3-torch).

`report` prints the table of advtrain / PyTorch ratios; given several runs of each (alternating
rounds), it uses the median of their medians.
"""
import argparse
import json
import os
import statistics
import sys
import time


def build(torch):
    """The seed's Net, shared with the golden generators (tools/torch_net.py)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tools"))
    from torch_net import Net
    return Net


def workloads(torch, Net):
    F = torch.nn.functional

    def data(batch, seed):
        g = torch.Generator().manual_seed(seed)
        return torch.rand(batch, 3, 32, 32, generator=g), torch.randint(0, 10, (batch,), generator=g)

    def train(batch):
        def setup():
            torch.manual_seed(1)
            net = Net()
            opt = torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
            x, y = data(batch, 2)

            def step():
                opt.zero_grad()
                loss = F.nll_loss(net(x), y)
                loss.backward()
                opt.step()
            return step
        return setup

    def infer(batch):
        def setup():
            torch.manual_seed(1)
            net = Net().eval()
            x, _ = data(batch, 2)

            def step():
                with torch.no_grad():
                    net(x)
            return step
        return setup

    def input_grad(batch):
        def setup():
            torch.manual_seed(1)
            net = Net().eval()
            for p in net.parameters():
                p.requires_grad_(False)
            x, y = data(batch, 2)
            x.requires_grad_(True)

            def step():
                x.grad = None
                loss = F.nll_loss(net(x), y)
                loss.backward()
                return x.grad
            return step
        return setup

    eps = 8 / 255

    def frozen_net():
        torch.manual_seed(1)
        net = Net().eval()
        for p in net.parameters():
            p.requires_grad_(False)
        return net

    def input_gradient(net, x, y):
        x = x.detach().requires_grad_(True)
        return torch.autograd.grad(F.nll_loss(net(x), y), x)[0]

    def fgsm(batch):
        def setup():
            net = frozen_net()
            x, y = data(batch, 2)

            def step():
                return (x + eps * input_gradient(net, x, y).sign()).clamp_(0, 1)
            return step
        return setup

    def pgd(batch, steps):
        def setup():
            net = frozen_net()
            x, y = data(batch, 2)
            alpha = eps / 4
            # The eps-box around x intersected with [0, 1], once: projection and clipping in one.
            low, high = (x - eps).clamp_(min=0), (x + eps).clamp_(max=1)

            def step():
                adv = x.clone()
                for _ in range(steps):
                    adv = adv + alpha * input_gradient(net, adv, y).sign()
                    adv = torch.min(torch.max(adv, low), high)
                return adv
            return step
        return setup

    def goodfellow_epoch(images, batch):
        def setup():
            g = torch.Generator().manual_seed(3)
            pixels = torch.randint(0, 256, (images, 3, 32, 32), dtype=torch.uint8, generator=g)
            labels = torch.randint(0, 10, (images,), generator=g)
            torch.manual_seed(1)
            net = Net()
            opt = torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)

            def epoch():
                for idx in torch.randperm(images).split(batch):
                    x, y = pixels[idx].float().div_(255), labels[idx]
                    adv = (x + eps * input_gradient(net, x, y).sign()).clamp_(0, 1)
                    opt.zero_grad()
                    loss = 0.5 * F.nll_loss(net(x), y) + 0.5 * F.nll_loss(net(adv), y)
                    loss.backward()
                    opt.step()
            return epoch
        return setup

    # name -> (images per call, setup returning a step function). Keep in step with SideBySide.java.
    return {
        "train-b32": (32, train(32)),
        "train-b4": (4, train(4)),
        "infer-b256": (256, infer(256)),
        "inputgrad-b256": (256, input_grad(256)),
        "fgsm-b256": (256, fgsm(256)),
        "pgd10-b256": (256, pgd(256, 10)),
        "goodfellow-epoch": (50_000, goodfellow_epoch(50_000, 32)),
    }


def load_average():
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "unknown"


def measure(args):
    import torch
    torch.set_num_threads(args.threads)
    table = workloads(torch, build(torch))
    names = list(table) if args.workloads == "all" else args.workloads.split(",")
    results = {}
    for name in names:
        if name not in table:
            print(f"vs_pytorch.py: no PyTorch workload '{name}' (have {', '.join(table)})", file=sys.stderr)
            continue
        images, setup = table[name]
        step = setup()
        # Warm-up, and an estimate of the calls a timed window needs.
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < args.seconds:
            step()
            calls += 1
        per_window = max(1, int(calls * args.seconds / (time.perf_counter() - start)))
        rates = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            for _ in range(per_window):
                step()
            rates.append(images * per_window / (time.perf_counter() - t0))
        results[name] = {"images_per_second": statistics.median(rates), "repeats": rates}
    json.dump({"engine": "pytorch " + torch.__version__, "threads": torch.get_num_threads(),
               "load_average": load_average(), "workloads": results}, sys.stdout, indent=1)
    print()


def report(args):
    theirs = [json.load(open(f)) for f in args.torch]
    ours = [json.load(open(f)) for f in args.advtrain]
    print(f"PyTorch:  {theirs[0]['engine']}, {theirs[0]['threads']} threads, load average "
          + ", ".join(t["load_average"] for t in theirs))
    print(f"advtrain: {ours[0]['engine']}, load average " + ", ".join(o["load_average"] for o in ours))
    if len(ours) > 1:
        print(f"(median over {len(ours)} alternating rounds)")
    print(f"{'workload':<18} {'PyTorch img/s':>14} {'advtrain img/s':>15} {'advtrain/PyTorch':>17}")
    for name in theirs[0]["workloads"]:
        t = statistics.median(r["workloads"][name]["images_per_second"] for r in theirs if name in r["workloads"])
        mine = [r["workloads"][name]["images_per_second"] for r in ours if name in r["workloads"]]
        if not mine:
            print(f"{name:<18} {t:>14.0f} {'-':>15} {'-':>17}")
            continue
        m = statistics.median(mine)
        print(f"{name:<18} {t:>14.0f} {m:>15.0f} {m / t:>16.2f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--threads", type=int, default=2)
    m.add_argument("--repeats", type=int, default=5)
    m.add_argument("--seconds", type=float, default=1.0)
    m.add_argument("--workloads", default="all")
    r = sub.add_parser("report")
    r.add_argument("--torch", nargs="+", required=True)
    r.add_argument("--advtrain", nargs="+", required=True)
    args = parser.parse_args()
    measure(args) if args.command == "measure" else report(args)


if __name__ == "__main__":
    main()
