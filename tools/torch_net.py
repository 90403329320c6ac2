"""What the PyTorch scripts share: the seed's Net, a safetensors writer, and where CIFAR-10 is.

Used by tools/make_goldens.py, tools/make_attack_goldens.py, tools/resnet_cifar.py and
benchmarks/torch_workloads.py, so the network the goldens and the benchmark run is defined once, as
advtrain.nn.Net defines it. Run the scripts with Debian's /usr/bin/python3 (python3-torch).
"""
import json
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def find_data(explicit=None):
    """The full CIFAR-10 binary folder: `explicit`, else where advtrain's commands look
    ($ADVTRAIN_DATA, data/cifar-10-batches-bin/, ../shared/data/cifar-10/). The committed sample
    (a folder with sample.properties) is refused: the goldens are made from the real files."""
    candidates = [explicit] if explicit else [
        os.environ.get("ADVTRAIN_DATA"),
        os.path.join(ROOT, "data", "cifar-10-batches-bin"),
        os.path.join(ROOT, "..", "shared", "data", "cifar-10"),
    ]
    for d in candidates:
        if d and not os.path.exists(os.path.join(d, "sample.properties")) and any(
                os.path.exists(os.path.join(d, "test_batch.bin" + ext)) for ext in ("", ".gz")):
            return d
    raise SystemExit("the full CIFAR-10 was not found (looked in %s); pass --data DIR"
                     % ", ".join(d for d in candidates if d))


class Net(nn.Module):
    """The PyTorch tutorial's CIFAR-10 network, with its Normalize(0.5, 0.5) as the first step.

    forward takes images in [0, 1] and returns log-probabilities (NLLLoss-ready). `relu` replaces
    F.relu, for scripts that watch the pre-activations (make_goldens.py's margins)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x, relu=F.relu):
        x = (x - 0.5) / 0.5
        x = self.pool(relu(self.conv1(x)))
        x = self.pool(relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = relu(self.fc1(x))
        x = relu(self.fc2(x))
        return F.log_softmax(self.fc3(x), dim=1)


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: tensor} as little-endian F32 in insertion order (a 0-dim tensor as shape [1]),
    through a temporary file renamed into place. Metadata values are written as strings."""
    header = {}
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, tensor in tensors.items():
        values = tensor.detach().to(torch.float32).contiguous().flatten().tolist()
        data = struct.pack("<%df" % len(values), *values)
        shape = list(tensor.shape) if tensor.dim() > 0 else [1]
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)  # the data starts 8-byte aligned
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for data in blobs:
            f.write(data)
    os.replace(tmp, path)
    return os.path.getsize(path)
