"""Print-and-scan in software: each effect does what it says, and a seed gives one result."""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np
import pytest

from omr.synth.degrade import Degradation, apply_degradation, degrade, sample_degradation
from omr.synth.render import render_blank
from omr.synth.sample import sample_code, sample_layout

PAGE_DPI = 100.0
OUT_DPI = 100.0


@pytest.fixture(scope="module")
def layout():  # type: ignore[no-untyped-def]
    return sample_layout(questions=10, digits=4, multiple=0, subjective=1)


@pytest.fixture(scope="module")
def page(layout):  # type: ignore[no-untyped-def]
    return render_blank(layout, PAGE_DPI, sample_code())


def base(**changes: object) -> Degradation:
    return replace(Degradation(kind="clean", seed=3, dpi=OUT_DPI), **changes)  # type: ignore[arg-type]


def markers(image: np.ndarray) -> list[tuple[float, float]]:
    """Centroids of the four biggest dark blobs near the corners (the corner markers)."""
    _, dark = cv2.threshold(image, 100, 255, cv2.THRESH_BINARY_INV)
    n, _, stats, centroids = cv2.connectedComponentsWithStats(dark)
    h, w = image.shape
    found = []
    for cx, cy in [(0, 0), (w, 0), (w, h), (0, h)]:
        best = min((i for i in range(1, n) if 80 < stats[i, cv2.CC_STAT_AREA] < 2000),
                   key=lambda i: math.hypot(centroids[i][0] - cx, centroids[i][1] - cy))
        found.append((float(centroids[best][0]), float(centroids[best][1])))
    return found


def test_clean_is_the_page_itself(page) -> None:  # type: ignore[no-untyped-def]
    assert np.array_equal(apply_degradation(page, PAGE_DPI, base()), page)


def test_same_degradation_same_image_and_seed_same_degradation(page, layout) -> None:  # type: ignore[no-untyped-def]
    d1 = sample_degradation(np.random.default_rng(11), kinds=("phone",), smudge_rate=1.0, dpi=OUT_DPI)
    d2 = sample_degradation(np.random.default_rng(11), kinds=("phone",), smudge_rate=1.0, dpi=OUT_DPI)
    assert d1 == d2
    a = apply_degradation(page, PAGE_DPI, d1, layout)
    b = apply_degradation(page, PAGE_DPI, d1, layout)
    assert np.array_equal(a, b)
    img1, deg1 = degrade(page, PAGE_DPI, np.random.default_rng(5), layout, dpi=OUT_DPI)
    img2, deg2 = degrade(page, PAGE_DPI, np.random.default_rng(5), layout, dpi=OUT_DPI)
    assert deg1 == deg2 and np.array_equal(img1, img2)
    assert Degradation.from_dict(d1.to_dict()) == d1


@pytest.mark.parametrize("dpi", [50.0, 75.0, 150.0])
def test_dpi_resamples(page, layout, dpi) -> None:  # type: ignore[no-untyped-def]
    out = apply_degradation(page, PAGE_DPI, base(dpi=dpi))
    want = (layout.page.height * dpi / 25.4, layout.page.width * dpi / 25.4)
    assert abs(out.shape[0] - want[0]) <= 1 and abs(out.shape[1] - want[1]) <= 1


def test_scale_shrinks(page) -> None:  # type: ignore[no-untyped-def]
    out = apply_degradation(page, PAGE_DPI, base(scale=0.9))
    assert abs(out.shape[1] / page.shape[1] - 0.9) < 0.01


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_feed_rotation(page, rotation) -> None:  # type: ignore[no-untyped-def]
    out = apply_degradation(page, PAGE_DPI, base(rotation=rotation))
    assert np.array_equal(out, np.rot90(page, rotation // 90))


@pytest.mark.parametrize("skew", [-3.0, 2.0])
def test_skew_turns_the_page(page, skew) -> None:  # type: ignore[no-untyped-def]
    out = apply_degradation(page, PAGE_DPI, base(skew_deg=skew, border_mm=8, background=255))
    (x0, y0), (x1, y1), _, _ = markers(out)
    angle = math.degrees(math.atan2(y1 - y0, x1 - x0))
    assert abs(angle - skew) < 0.4


def test_perspective_moves_each_corner(page) -> None:  # type: ignore[no-untyped-def]
    shift = (4.0, 3.0, -5.0, 2.0, 0.0, 0.0, 3.0, -4.0)
    straight = markers(apply_degradation(page, PAGE_DPI, base(border_mm=10, background=255)))
    bent = markers(apply_degradation(page, PAGE_DPI, base(border_mm=10, background=255, corner_shift_mm=shift)))
    s = OUT_DPI / 25.4
    moved = [(bx - sx, by - sy) for (sx, sy), (bx, by) in zip(straight, bent, strict=True)]
    # the pattern of moves follows the corner shifts (up to the common translation from re-centring)
    rel = np.array(moved) - np.array(moved[3])
    want = (np.array(shift).reshape(4, 2) - np.array(shift[6:8])) * s
    assert np.abs(rel - want).max() < 0.25 * 10 * s  # markers sit ~12 mm in from the corners


def test_border_is_the_scanner_bed(page) -> None:  # type: ignore[no-untyped-def]
    out = apply_degradation(page, PAGE_DPI, base(border_mm=10, background=25))
    b = int(10 * OUT_DPI / 25.4)
    assert abs(out.shape[0] - page.shape[0] - 2 * b) <= 1 and abs(out.shape[1] - page.shape[1] - 2 * b) <= 1
    assert abs(float(out[: b - 1].mean()) - 25) < 1 and abs(float(out[:, : b - 1].mean()) - 25) < 1
    assert out[b + 5: b + 60, page.shape[1] // 2].min() > 200  # paper inside


def test_uneven_light_and_shadow(page) -> None:  # type: ignore[no-untyped-def]
    lit = apply_degradation(page, PAGE_DPI, base(light=0.3, light_angle_deg=0.0)).astype(float)
    h, w = lit.shape
    left, right = lit[h // 3: h // 2, 2:20].mean(), lit[h // 3: h // 2, w - 20: w - 2].mean()
    assert left > 245 and right < 255 * 0.75  # falls off towards +x
    shaded = apply_degradation(page, PAGE_DPI, base(shadow=0.4, shadow_angle_deg=90.0, shadow_offset=0.5))
    top, bottom = float(shaded[2:20, w // 2].mean()), float(shaded[h - 20: h - 2, w // 2].mean())
    assert top > 245 and bottom < 255 * 0.65


def sharpness(image: np.ndarray) -> float:
    return float(cv2.Laplacian(image, cv2.CV_64F).var())


def test_blur_and_motion_blur_soften(page) -> None:  # type: ignore[no-untyped-def]
    sharp = sharpness(page)
    assert sharpness(apply_degradation(page, PAGE_DPI, base(blur="gaussian", blur_px=1.2))) < sharp * 0.5
    moved = apply_degradation(page, PAGE_DPI, base(blur="motion", blur_px=5, motion_angle_deg=0))
    assert sharpness(moved) < sharp * 0.7
    # horizontal motion smears along x: vertical edges soften more than horizontal ones
    gx = np.abs(cv2.Sobel(moved, cv2.CV_64F, 1, 0)).mean() / np.abs(cv2.Sobel(page, cv2.CV_64F, 1, 0)).mean()
    gy = np.abs(cv2.Sobel(moved, cv2.CV_64F, 0, 1)).mean() / np.abs(cv2.Sobel(page, cv2.CV_64F, 0, 1)).mean()
    assert gx < gy


def test_noise_has_the_sigma_asked(page) -> None:  # type: ignore[no-untyped-def]
    grey = np.full((200, 200), 128, np.uint8)
    out = apply_degradation(grey, PAGE_DPI, base(noise_sigma=6.0))
    assert abs(float(out.astype(float).std()) - 6.0) < 0.5 and abs(float(out.mean()) - 128) < 0.5


def test_jpeg_leaves_artefacts_but_keeps_the_page(page) -> None:  # type: ignore[no-untyped-def]
    out = apply_degradation(page, PAGE_DPI, base(jpeg_quality=40))
    assert out.shape == page.shape and not np.array_equal(out, page)
    mse = float(((out.astype(float) - page) ** 2).mean())
    assert 0 < mse < 60  # PSNR above ~30 dB


def test_smudge_covers_one_marker_only(page, layout) -> None:  # type: ignore[no-untyped-def]
    out = apply_degradation(page, PAGE_DPI, base(smudge_corner=1, smudge_darkness=0.7), layout)
    changed = out.astype(int) < page.astype(int) - 10
    s = PAGE_DPI / 25.4
    m = layout.alignment.markers[1]
    ys, xs = np.nonzero(changed)
    assert len(xs) > 30
    assert np.hypot(xs - m.x * s, ys - m.y * s).max() < 2.5 * m.size * s  # all of it around marker 1


def test_sampled_degradations_stay_in_range() -> None:
    rng = np.random.default_rng(0)
    seen: set[str] = set()
    for _ in range(300):
        d = sample_degradation(rng, dpi=(150.0, 200.0, 300.0), smudge_rate=0.2)
        seen.update(d.applied)
        assert d.kind in ("scanner", "phone") and d.dpi in (150.0, 200.0, 300.0)
        assert d.rotation in (0, 90, 180, 270)
        assert d.jpeg_quality is None or 40 <= d.jpeg_quality <= 90
        if d.kind == "scanner":
            assert abs(d.skew_deg) <= 3 and d.corner_shift_mm == (0.0,) * 8 and d.background < 60
    assert {"skew", "perspective", "scale", "border", "light", "shadow", "blur", "motion_blur", "noise", "jpeg",
            "feed_rotation", "smudge", "dpi150", "dpi200"} <= seen
