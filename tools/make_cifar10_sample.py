#!/usr/bin/env python3
"""Writes the tests' CIFAR-10 sample: the first records of the official binary files, gzipped.

    python3 tools/make_cifar10_sample.py DATA_DIR [--train 512] [--test 256]

DATA_DIR holds the official binary files (data_batch_1.bin, test_batch.bin, or .bin.gz). The sample goes
to src/test/resources/cifar-10-sample/ with a sample.properties that tells advtrain how many records
each file holds, so the folder works as `--data` for every command. The output is byte-for-byte
reproducible (gzip level 9, no name, no time stamp).
"""
import argparse
import gzip
import io
import os

RECORD = 3073
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "src", "test", "resources", "cifar-10-sample")


def first_records(folder, name, count):
    path = os.path.join(folder, name + ".bin")
    opener = open if os.path.exists(path) else gzip.open
    if opener is gzip.open:
        path += ".gz"
    with opener(path, "rb") as f:
        data = f.read(count * RECORD)
    if len(data) != count * RECORD:
        raise SystemExit(f"{path}: fewer than {count} records")
    labels = data[::RECORD]
    if any(label > 9 for label in labels):
        raise SystemExit(f"{path}: a label outside 0-9: not CIFAR-10")
    return data


def write_gzip(path, data):
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=buffer, mtime=0) as f:
        f.write(data)
    with open(path, "wb") as f:
        f.write(buffer.getvalue())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="folder holding the official CIFAR-10 binary files")
    parser.add_argument("--train", type=int, default=512, help="records of data_batch_1 (default 512)")
    parser.add_argument("--test", type=int, default=256, help="records of test_batch (default 256)")
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    counts = {"data_batch_1": args.train, "test_batch": args.test}
    for name, count in counts.items():
        write_gzip(os.path.join(OUT, name + ".bin.gz"), first_records(args.data, name, count))
    with open(os.path.join(OUT, "sample.properties"), "w") as f:
        f.write("# The first records of the official CIFAR-10 binary files (tools/make_cifar10_sample.py; see README.md).\n")
        f.write("# advtrain reads this folder as CIFAR-10 holding these many records per file; files not named hold none.\n")
        for name, count in counts.items():
            f.write(f"{name}={count}\n")
    print(f"wrote {OUT}: " + ", ".join(f"{n} {c} records" for n, c in counts.items()))


if __name__ == "__main__":
    main()
