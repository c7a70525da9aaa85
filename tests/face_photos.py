"""Real face photos that ship inside installed packages, and their variations (tests and bench/faces.py).

* astronaut: scikit-image's ``skimage.data.astronaut()`` (Eileen Collins, 512x512, in the wheel);
* hopper: matplotlib's sample ``grace_hopper.jpg`` (Grace Hopper, 512x600, in the wheel);
* empty scenes: ``skimage.data.coffee()`` (a cup on a table) and ``rocket()`` (no person).

Nothing is downloaded. Variations are made with Pillow: lighting, rotation, blur, occlusion, two
photos side by side, and "honest sessions" (the same person, small shifts, lighting and JPEG quality).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

# Face boxes (left, top, right, bottom) in the original photos, as dlib finds them.
FACE_BOX = {"astronaut": (179, 83, 266, 170), "hopper": (161, 137, 377, 353)}


def astronaut() -> Image.Image:
    import skimage.data

    return Image.fromarray(skimage.data.astronaut())


def hopper() -> Image.Image:
    import matplotlib.cbook

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as fh:
        return Image.open(fh).convert("RGB")


def empty_scenes() -> dict[str, Image.Image]:
    import skimage.data

    return {"coffee": Image.fromarray(skimage.data.coffee()), "rocket": Image.fromarray(skimage.data.rocket())}


def photo(name: str) -> Image.Image:
    return {"astronaut": astronaut, "hopper": hopper}[name]()


def jpeg(image: Image.Image, quality: int = 85) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def occlude(image: Image.Image, box: tuple[int, int, int, int]) -> Image.Image:
    """A grey rectangle over the whole face (a hand, a sheet of paper)."""
    out = image.copy()
    ImageDraw.Draw(out).rectangle(box, fill=(60, 60, 60))
    return out


def side_by_side(left: Image.Image, right: Image.Image, height: int = 320) -> Image.Image:
    a = left.resize((left.width * height // left.height, height))
    b = right.resize((right.width * height // right.height, height))
    out = Image.new("RGB", (a.width + b.width, height))
    out.paste(a, (0, 0))
    out.paste(b, (a.width, 0))
    return out


def variants(name: str) -> dict[str, Image.Image]:
    """The named person's photo under one variation each (a real face is in every one but 'occluded')."""
    image = photo(name)
    ops: dict[str, Callable[[Image.Image], Image.Image]] = {
        "plain": lambda i: i,
        "dark": lambda i: ImageEnhance.Brightness(i).enhance(0.35),
        "very_dark": lambda i: ImageEnhance.Brightness(i).enhance(0.15),
        "bright": lambda i: ImageEnhance.Brightness(i).enhance(1.6),
        "rotated_15": lambda i: i.rotate(15, resample=Image.Resampling.BILINEAR),
        "rotated_-15": lambda i: i.rotate(-15, resample=Image.Resampling.BILINEAR),
        "blur_2": lambda i: i.filter(ImageFilter.GaussianBlur(2)),
        "small_320": lambda i: i.resize((320, 320 * i.height // i.width)),
        "jpeg_q30": lambda i: Image.open(io.BytesIO(jpeg(i, 30))),
    }
    return {key: op(image) for key, op in ops.items()}


def honest_session(name: str, frames: int, seed: int) -> Iterator[bytes]:
    """JPEG frames of one honest candidate: small shifts and zoom, lighting, slight tilt, JPEG quality."""
    rng = np.random.default_rng(seed)
    image = photo(name)
    w, h = image.size
    for _ in range(frames):
        dx, dy = rng.integers(-25, 26, size=2)
        zoom = float(rng.uniform(0.9, 1.1))
        crop = (int(dx + w * (1 - 1 / zoom) / 2), int(dy + h * (1 - 1 / zoom) / 2),
                int(dx + w - w * (1 - 1 / zoom) / 2), int(dy + h - h * (1 - 1 / zoom) / 2))
        frame = image.crop(crop).resize((320, 320 * h // w))
        frame = frame.rotate(float(rng.uniform(-6, 6)), resample=Image.Resampling.BILINEAR)
        frame = ImageEnhance.Brightness(frame).enhance(float(rng.uniform(0.6, 1.3)))
        yield jpeg(frame, int(rng.integers(40, 91)))
