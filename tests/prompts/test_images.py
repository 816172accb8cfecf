"""Image preparation (prompts/images.py) on real files: orientation, conversions, resize, refusals."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import pytest
from PIL import Image
from support import images as fx

from datagen.llm.tokens import image_tokens
from datagen.prompts.images import EncodeSpec, ImageProblem, encode, fitted, locate, probe


def decoded(enc) -> Image.Image:  # type: ignore[no-untyped-def]
    url = enc.data_url()
    head, _, data = url.partition(",")
    assert head == f"data:{enc.mime};base64"
    return Image.open(io.BytesIO(base64.b64decode(data)))


def close(a: tuple[int, ...], b: tuple[int, ...], tol: int = 40) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    path = fx.oriented_jpeg(tmp_path / "phone.jpg")
    p = probe(path, EncodeSpec())
    assert (p.width, p.height, p.orientation) == (60, 40, 6)
    assert p.out_size == (40, 60)  # shown upright: portrait
    im = decoded(encode(path, EncodeSpec()))
    assert im.size == (40, 60)
    assert close(im.getpixel((20, 5)), fx.RED) and close(im.getpixel((20, 55)), fx.BLUE)


def test_resize_keeps_aspect_and_never_enlarges(tmp_path: Path, coco_mini: Path) -> None:
    real = next((coco_mini / "val2017").glob("*.jpg"))
    w, h = Image.open(real).size
    enc = encode(real, EncodeSpec(max_side=200))
    assert max(enc.size) == 200 and abs(enc.size[0] / enc.size[1] - w / h) < 0.02
    assert decoded(enc).size == enc.size
    assert encode(real, EncodeSpec(max_side=5000)).size == (w, h)
    assert fitted((640, 480), 320) == (320, 240) and fitted((100, 50), 320) == (100, 50)


@pytest.mark.parametrize("fmt,pil", [("jpeg", "JPEG"), ("png", "PNG"), ("webp", "WEBP")])
def test_formats(tmp_path: Path, fmt: str, pil: str) -> None:
    path = fx.photo(tmp_path / "a.jpg", (90, 60))
    enc = encode(path, EncodeSpec(format=fmt))
    assert enc.mime == f"image/{fmt}" and decoded(enc).format == pil


def test_alpha_palette_cmyk_and_frames_become_rgb(tmp_path: Path) -> None:
    alpha = decoded(encode(fx.alpha_png(tmp_path / "a.png"), EncodeSpec(format="png")))
    assert alpha.mode == "RGB" and alpha.getpixel((2, 2)) == fx.WHITE and alpha.getpixel((40, 10)) == fx.GREEN
    pal = decoded(encode(fx.palette_png(tmp_path / "p.png"), EncodeSpec(format="png")))
    assert pal.mode == "RGB" and pal.getpixel((2, 2)) == fx.WHITE and pal.getpixel((30, 10)) == fx.BLUE
    cmyk = decoded(encode(fx.cmyk_jpeg(tmp_path / "c.jpg"), EncodeSpec()))
    assert cmyk.mode == "RGB" and close(cmyk.getpixel((10, 10)), fx.RED)
    gif = decoded(encode(fx.animated_gif(tmp_path / "g.gif"), EncodeSpec(format="png")))
    assert gif.getpixel((5, 5)) == fx.RED


def test_bad_files_are_named_problems(tmp_path: Path, coco_mini: Path) -> None:
    real = next((coco_mini / "val2017").glob("*.jpg"))
    (tmp_path / "empty.jpg").write_bytes(b"")
    cases = {
        tmp_path / "missing.jpg": "not found",
        tmp_path / "empty.jpg": "empty (0 bytes)",
        fx.not_an_image(tmp_path / "notes.jpg"): "not an image",
        fx.bomb_png(tmp_path / "bomb.png"): "decompression bomb",
    }
    for path, words in cases.items():
        with pytest.raises(ImageProblem, match=re.escape(words)) as e:
            probe(path, EncodeSpec())
        assert str(path) in str(e.value)
    cut = fx.truncated_jpeg(tmp_path / "cut.jpg", real)
    assert probe(cut, EncodeSpec()).as_is  # the header is intact ...
    with pytest.raises(ImageProblem, match="cannot be decoded"):
        encode(cut, EncodeSpec())  # ... the pixels are not


def test_a_jpeg_that_needs_nothing_is_sent_as_it_is(coco_mini: Path, tmp_path: Path) -> None:
    real = next((coco_mini / "val2017").glob("*.jpg"))
    w, h = Image.open(real).size
    enc = encode(real, EncodeSpec(max_side=max(w, h)))
    assert enc.data == real.read_bytes() and enc.size == (w, h)  # no second JPEG generation
    assert probe(real, EncodeSpec()).as_is and not probe(real, EncodeSpec(max_side=100)).as_is
    assert not probe(real, EncodeSpec(format="png")).as_is
    assert encode(real, EncodeSpec(max_side=100)).data != real.read_bytes()
    assert not probe(fx.oriented_jpeg(tmp_path / "o.jpg"), EncodeSpec()).as_is  # must be turned
    assert not probe(fx.cmyk_jpeg(tmp_path / "c.jpg"), EncodeSpec()).as_is  # must become RGB


def test_symlink_out_of_the_image_folder_is_refused(tmp_path: Path) -> None:
    outside = fx.photo(tmp_path / "outside" / "secret.jpg", (20, 20))
    root = tmp_path / "images"
    root.mkdir()
    (root / "link.jpg").symlink_to(outside)
    with pytest.raises(ImageProblem, match="outside"):
        locate("link.jpg", root)
    with pytest.raises(ImageProblem, match=r"'\.\.'"):
        locate("../outside/secret.jpg", root)
    assert locate("x.jpg", None) == Path("x.jpg")


def test_openai_tile_rule_and_the_open_model_estimate() -> None:
    # OpenAI's worked examples: 1024x1024 high = 765; 2048x4096 high = 1105; low = 85 whatever the size.
    assert image_tokens("gpt-4o", (1024, 1024), "high") == 765
    assert image_tokens("gpt-4o", (2048, 4096), "high") == 1105
    assert image_tokens("gpt-4o-2024-08-06", (4096, 4096), "low") == 85
    assert image_tokens("gpt-4o", (512, 512), None) == 85 + 170  # no detail: counted as high
    assert image_tokens("gpt-4o-mini", (512, 512), "low") == 2833
    assert image_tokens("Qwen/Qwen2.5-VL-7B-Instruct", (280, 280), None) == 100
    assert image_tokens("Qwen/Qwen2.5-VL-7B-Instruct", (28, 28), None) == 64  # the floor
    assert image_tokens("anything", (999, 999), "high", override=300) == 300
