"""recognize.py: the JSON contract, bad input of every kind, exit statuses."""

from __future__ import annotations

import json
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, run_script
from PIL import Image, ImageDraw


def drawn_seven(size: int = 200) -> Image.Image:
    image = Image.new("L", (size, size), 255)
    s = size / 200
    ImageDraw.Draw(image).line(
        [(50 * s, 40 * s), (150 * s, 40 * s), (90 * s, 170 * s)], fill=0, width=max(3, int(14 * s))
    )
    return image


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Every kind of input the issue names, made once."""
    folder = tmp_path_factory.mktemp("inputs")
    seven = drawn_seven()
    paths = {name: folder / name for name in (
        "seven.png", "not_image.png", "empty.png", "truncated.png", "bomb.png", "pixel.png",
        "strip.png", "white.png", "black.png", "animated.gif", "grey16.png", "cmyk.jpg",
        "photo64mp.jpg", "seven.webp", "seven.tiff", "seven.bmp",
    )}  # fmt: skip
    seven.save(paths["seven.png"])
    paths["not_image.png"].write_text("this is not an image")
    paths["empty.png"].write_bytes(b"")
    paths["truncated.png"].write_bytes(paths["seven.png"].read_bytes()[:200])
    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)
    paths["bomb.png"].write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\0" * 30001 * 4))
        + _chunk(b"IEND", b"")
    )
    Image.new("L", (1, 1), 0).save(paths["pixel.png"])
    Image.new("L", (1, 5000), 128).save(paths["strip.png"])
    Image.new("RGB", (300, 300), "white").save(paths["white.png"])
    Image.new("RGB", (300, 300), "black").save(paths["black.png"])
    blank = Image.new("L", (200, 200), 255)
    seven.save(paths["animated.gif"], save_all=True, append_images=[blank], duration=100, loop=0)
    Image.fromarray(np.asarray(seven).astype(np.uint16) * 257).save(paths["grey16.png"])
    seven.convert("CMYK").save(paths["cmyk.jpg"])
    drawn_seven(8000).convert("RGB").save(paths["photo64mp.jpg"], quality=80)
    seven.save(paths["seven.webp"])
    seven.save(paths["seven.tiff"])
    seven.save(paths["seven.bmp"])
    return paths


@pytest.mark.slow
def test_every_kind_of_input_gets_its_answer(files):
    names = list(files)
    result = run_script("recognize.py", "--top-k", "2", *(str(files[name]) for name in names))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(files[name]) for name in names]
    answers = dict(zip(names, lines, strict=True))
    for name in ("seven.png", "animated.gif", "grey16.png", "cmyk.jpg", "photo64mp.jpg",
                 "seven.webp", "seven.tiff", "seven.bmp"):  # fmt: skip
        assert answers[name]["label"] == 7, (name, answers[name])
        assert len(answers[name]["top_k"]) == 2
        assert answers[name]["top_k"][0] == [7, answers[name]["confidence"]]
    for name in ("pixel.png", "strip.png", "white.png", "black.png"):
        expected = {"file": str(files[name]), "label": None, "reason": "no digit found"}
        assert answers[name] == expected
    assert "empty" in answers["empty.png"]["error"]
    assert "not an image" in answers["not_image.png"]["error"]
    assert "truncated" in answers["truncated.png"]["error"]
    assert "megapixels" in answers["bomb.png"]["error"]
    assert "no such file" in run_script("recognize.py", str(files["seven.png"]) + ".missing").stdout


def test_all_good_files_exit_zero(files):
    result = run_script("recognize.py", str(files["seven.png"]), str(files["white.png"]))
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 2


def test_number_mode(tmp_path):
    image = Image.new("L", (600, 200), 255)
    draw = ImageDraw.Draw(image)
    draw.line([(80, 40), (80, 160)], fill=0, width=12)  # 1
    draw.line([(180, 40), (280, 40), (220, 160)], fill=0, width=12)  # 7
    draw.ellipse([360, 40, 450, 160], outline=0, width=12)  # 0
    image.save(tmp_path / "number.png")
    Image.new("L", (100, 100), 255).save(tmp_path / "blank.png")
    result = run_script(
        "recognize.py", "--number", str(tmp_path / "number.png"), str(tmp_path / "blank.png")
    )
    assert result.returncode == 0, result.stderr
    found, blank = (json.loads(line) for line in result.stdout.splitlines())
    assert found["number"] == "170"
    assert [d["label"] for d in found["digits"]] == [1, 7, 0]
    x, y, w, h = found["digits"][2]["box"]
    assert abs(x - 354) <= 8 and abs(y - 34) <= 8 and abs(w - 102) <= 12 and abs(h - 132) <= 12
    assert blank["number"] is None and blank["digits"] == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "content",
    [b"", b"not a model", b"PK\x03\x04 truncated zip"],
    ids=["empty", "text", "truncated-zip"],
)
def test_bad_weights_exit_two_with_one_line(tmp_path, files, content):
    weights = tmp_path / "bad.npz"
    weights.write_bytes(content)
    result = run_script("recognize.py", "--weights", str(weights), str(files["seven.png"]))
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    missing = run_script(
        "recognize.py", "--weights", str(tmp_path / "missing.npz"), str(files["seven.png"])
    )
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_wrong_kind_of_model_is_refused(tmp_path, files):
    sys.path.insert(0, str(ROOT))
    import nnlite as nl

    nl.Sequential([nl.Flatten(), nl.Dense(784, 3)]).save(tmp_path / "three.npz")
    result = run_script(
        "recognize.py", "--weights", str(tmp_path / "three.npz"), str(files["seven.png"])
    )
    assert result.returncode == 2 and "not a digit classifier" in result.stderr
