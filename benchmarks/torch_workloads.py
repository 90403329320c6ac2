"""The workloads of the side-by-side benchmark (vs_pytorch.py) and of the PyTorch step profile
(torch_profile.py), in PyTorch, defined as advtrain.bench.SideBySide defines them (keep the two in
step).

The seed's workloads run its Net (the PyTorch tutorial's CIFAR-10 network with the (x - 0.5) / 0.5
normalisation as its first step, as advtrain's Net has it) on random images in [0, 1] of CIFAR
shape and random labels. Inference runs under torch.no_grad(); the input gradient freezes every
parameter (requires_grad False) so backward computes d loss / d input alone. FGSM and PGD-10 (eps
8/255, L-inf, PGD: 10 steps of eps/4 from the clean image, projected onto the eps-box around the
original and clipped to [0, 1] after each step) freeze the parameters the same way. The Goodfellow
epoch is one epoch of the seed's Eq. 3 (FGSM at eps 8/255, mix 0.5) over 50,000 random byte images
at batch 32: a fresh permutation, each batch indexed and turned into floats / 255, the adversarial
batch crafted with torch.autograd.grad (input gradient only), then 0.5 * clean loss + 0.5 *
adversarial loss, backward, SGD.

The ResNet-20 workloads run tools/resnet_cifar.py's ResNet20 (advtrain.nn.ResNet20's definition)
with SGD at lr 0.01, momentum 0.9, weight decay 5e-4: a training step at batch 128, inference at
batch 256 in evaluation mode, and one epoch of Wong et al.'s FGSM-RS training (random start in the
eps-box, one step of 1.25 eps, projected and clipped, the adversarial loss alone, training mode
throughout) over FGSM_RS_IMAGES random byte images at batch 128.
"""
import os
import sys


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

    # ---- ResNet-20 (tools/resnet_cifar.py's definition, as advtrain.nn.ResNet20) ----------------

    def resnet20():
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tools"))
        from resnet_cifar import ResNet20
        torch.manual_seed(1)
        return ResNet20()

    def resnet_sgd(net):
        return torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def resnet_train(batch):
        def setup():
            net = resnet20().train()
            opt = resnet_sgd(net)
            x, y = data(batch, 2)

            def step():
                opt.zero_grad()
                loss = F.nll_loss(net(x), y)
                loss.backward()
                opt.step()
            return step
        return setup

    def resnet_infer(batch):
        def setup():
            net = resnet20().eval()
            x, _ = data(batch, 2)

            def step():
                with torch.no_grad():
                    net(x)
            return step
        return setup

    def fgsm_rs_epoch(images, batch):
        """Wong et al.'s FGSM-RS training (their CIFAR10/train_cifar.py, in [0, 1] pixel space): a random
        start in the eps-box (kept in [0, 1]), one step of 1.25 eps from it, projected onto the box and
        clipped, then the loss of the adversarial batch alone; the model in training mode throughout."""
        def setup():
            g = torch.Generator().manual_seed(3)
            pixels = torch.randint(0, 256, (images, 3, 32, 32), dtype=torch.uint8, generator=g)
            labels = torch.randint(0, 10, (images,), generator=g)
            net = resnet20().train()
            opt = resnet_sgd(net)
            alpha = 1.25 * eps

            def epoch():
                for idx in torch.randperm(images).split(batch):
                    x, y = pixels[idx].float().div_(255), labels[idx]
                    start = (x + torch.empty_like(x).uniform_(-eps, eps)).clamp_(0, 1)
                    adv = start + alpha * input_gradient(net, start, y).sign()
                    adv = torch.min(torch.max(adv, x - eps), x + eps).clamp_(0, 1)
                    opt.zero_grad()
                    loss = F.nll_loss(net(adv), y)
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
        "resnet20-train-b128": (128, resnet_train(128)),
        "resnet20-infer-b256": (256, resnet_infer(256)),
        "resnet20-fgsmrs-epoch": (FGSM_RS_IMAGES, fgsm_rs_epoch(FGSM_RS_IMAGES, 128)),
    }


# Images in the ResNet-20 FGSM-RS epoch: 10 batches of 128, so that one epoch (a timed window) stays
# well under a minute on 2 cores. Keep in step with SideBySide.java.
FGSM_RS_IMAGES = 1280
