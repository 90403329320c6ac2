"""The reference PyTorch definitions of advtrain's ResNets, and what the ResNet scripts share.

ResNet20 is the CIFAR ResNet-20 of He et al. 2016 (section 4.2) as the widely used PyTorch
definition writes it (state_dict names conv1, bn1, layer1.0.conv1, layer1.0.bn1, ..., layer3.2.bn2,
linear; option-A shortcuts without parameters; kaiming_normal_ on every conv and linear weight).
PreActResNet18 is the network of Wong et al. 2020, "Fast is better than free" (PreActBlock: bn1,
conv1, bn2, conv2, a 1x1 convolution as shortcut where the shape changes; a final bn, linear).
Both take images in [0, 1], normalise them with the CIFAR-10 mean and std as their first step and
return log-probabilities, as advtrain.nn.ResNet20 and advtrain.nn.PreActResNet18 do; the
normalisation has no state, so the state_dicts are exactly those of the usual definitions.

Also here: a safetensors reader and writer that keep int64 tensors (num_batches_tracked) and
0-dimensional shapes, a CIFAR-10 reader, and a deterministic initialisation that
advtrain's tests compute the same way (ResNetGoldenTest.hashInit), so the parity golden needs no
file of initial weights. Run with Debian's /usr/bin/python3 (python3-torch 1.13).
"""
import gzip
import json
import math
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def normalize(x):
    mean = torch.tensor(CIFAR10_MEAN, dtype=x.dtype).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR10_STD, dtype=x.dtype).view(1, 3, 1, 1)
    return (x - mean) / std


# ---- ResNet-20 (He et al. 2016) -----------------------------------------------------------------

class ShortcutA(nn.Module):
    """Option A: every other pixel, and planes // 4 zero channels on each side; no parameters."""

    def __init__(self, planes):
        super().__init__()
        self.pad = planes // 4

    def forward(self, x):
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad), "constant", 0)


class BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = ShortcutA(planes) if stride != 1 or in_planes != planes else nn.Sequential()

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet20(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.in_planes = 16
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = self._make_layer(16, 3, 1)
        self.layer2 = self._make_layer(32, 3, 2)
        self.layer3 = self._make_layer(64, 3, 2)
        self.linear = nn.Linear(64, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)

    def _make_layer(self, planes, blocks, stride):
        layers = []
        for s in [stride] + [1] * (blocks - 1):
            layers.append(BasicBlock(self.in_planes, planes, s))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(normalize(x))))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.avg_pool2d(out, out.size()[3]).flatten(1)
        return F.log_softmax(self.linear(out), dim=1)


# ---- PreAct ResNet-18 (Wong et al. 2020) --------------------------------------------------------

class PreActBlock(nn.Module):
    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, kernel_size=1, stride=stride, bias=False))

    def forward(self, x):
        out = F.relu(self.bn1(x))
        shortcut = self.shortcut(out) if hasattr(self, "shortcut") else x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + shortcut


class PreActResNet18(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.in_planes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
        self.layer1 = self._make_layer(64, 2, 1)
        self.layer2 = self._make_layer(128, 2, 2)
        self.layer3 = self._make_layer(256, 2, 2)
        self.layer4 = self._make_layer(512, 2, 2)
        self.bn = nn.BatchNorm2d(512)
        self.linear = nn.Linear(512, num_classes)

    def _make_layer(self, planes, blocks, stride):
        layers = []
        for s in [stride] + [1] * (blocks - 1):
            layers.append(PreActBlock(self.in_planes, planes, s))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x):
        out = self.conv1(normalize(x))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.relu(self.bn(out))
        out = F.avg_pool2d(out, 4).flatten(1)
        return F.log_softmax(self.linear(out), dim=1)


ARCHITECTURES = {"resnet20": ResNet20, "preact-resnet18": PreActResNet18}


# ---- a deterministic initialisation, computed the same way in advtrain's tests ------------------

MASK = (1 << 64) - 1


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def hash_init(model):
    """Every tensor of rank 2 or more (conv and linear weights) and linear.bias, in state_dict order (the j-th such tensor),
    element i: u = (top 24 bits of splitmix64(j * 2^32 + i)) / 2^23 - 1, in [-1, 1), times
    sqrt(6 / fan_in) for weights (the variance of kaiming_normal_), 1 / sqrt(fan_in) for biases,
    rounded to float32. Batch norm keeps its defaults (weight 1, bias 0, mean 0, var 1, 0 batches)."""
    j = 0
    with torch.no_grad():
        for name, p in model.state_dict().items():
            if not (p.dim() > 1 or name == "linear.bias"):
                continue
            weight = p.dim() > 1
            fan_in = p[0].numel() if weight else model.state_dict()["linear.weight"].shape[1]
            scale = math.sqrt(6.0 / fan_in) if weight else 1.0 / math.sqrt(fan_in)
            values = [((splitmix64((j << 32) + i) >> 40) / float(1 << 23) - 1.0) * scale for i in range(p.numel())]
            p.copy_(torch.tensor(values, dtype=torch.float64).to(torch.float32).view(p.shape).to(p.dtype))
            j += 1
    return model


# ---- data and files -----------------------------------------------------------------------------

def read_cifar(folder, name, count):
    """The first `count` records of a CIFAR-10 binary file in `folder` (name.bin or name.bin.gz) as
    (images [N,3,32,32] float32 byte/255, labels)."""
    path = os.path.join(folder, name + ".bin")
    opener = open
    if not os.path.exists(path):
        path, opener = path + ".gz", gzip.open
    with opener(path, "rb") as f:
        raw = f.read(count * 3073)
    if len(raw) != count * 3073:
        raise SystemExit("%s: fewer than %d records" % (path, count))
    data = torch.tensor(list(raw), dtype=torch.uint8).view(count, 3073)
    labels = data[:, 0].to(torch.int64)
    images = data[:, 1:].to(torch.float32).view(count, 3, 32, 32) / 255.0  # a division, as advtrain and ToTensor
    return images, labels


def write_safetensors(path, tensors, metadata=None):
    """{name: tensor} in insertion order: int64 tensors as I64, everything else as F32, 0-dim as []."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name, tensor in tensors.items():
        t = tensor.detach().contiguous().flatten()
        if tensor.dtype == torch.int64:
            dtype, data = "I64", struct.pack("<%dq" % t.numel(), *t.tolist())
        else:
            dtype, data = "F32", struct.pack("<%df" % t.numel(), *t.to(torch.float32).tolist())
        header[name] = {"dtype": dtype, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for data in blobs:
            f.write(data)
    os.replace(tmp, path)
    return os.path.getsize(path)


def read_safetensors(path):
    """(OrderedDict {name: tensor} in file order, metadata) for F32 and I64 files."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length).decode("utf-8"), object_pairs_hook=lambda pairs: pairs)
        data = f.read()
    tensors, metadata = {}, {}
    for name, info in header:
        if name == "__metadata__":
            metadata = dict(info)
            continue
        info = dict(info)
        begin, end = info["data_offsets"]
        fmt = "q" if info["dtype"] == "I64" else "f"
        values = struct.unpack("<%d%s" % ((end - begin) // struct.calcsize(fmt), fmt), data[begin:end])
        dtype = torch.int64 if info["dtype"] == "I64" else torch.float32
        tensors[name] = torch.tensor(values, dtype=dtype).view(info["shape"])
    return tensors, metadata


def load_advtrain_file(path):
    """A model file written by advtrain, loaded into the network its metadata names with
    load_state_dict(strict=True): the other direction of the weights' round trip."""
    tensors, metadata = read_safetensors(path)
    model = ARCHITECTURES[metadata["arch"]]()
    model.load_state_dict(tensors, strict=True)
    return model
