"""End to end in a real headless Chromium: the review page renders real COCO images with their boxes
where the annotations put them, filters by task and text, and exports rejected ids that
`datagen export --exclude-ids` reads."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from support.jsonl import write_jsonl
from support.review_support import contexts_from_coco, make_run, raw_boxes

from datagen.cli import main
from datagen.rundir.samples import load_many, read_id_list

pytestmark = pytest.mark.slow

BROWSER_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


def find_chromium() -> str | None:
    for cand in (os.environ.get("DATAGEN_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if cand and (path := shutil.which(cand) or (cand if Path(cand).is_file() else None)):
            return path
    return None


@pytest.fixture(scope="module")
def browser():
    exe = find_chromium()
    if exe is None:
        pytest.skip("no Chromium found (install Debian's `chromium` or set DATAGEN_CHROMIUM)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (dev extra) is not installed")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=BROWSER_ARGS)
        yield b
        b.close()


def wait_until(page, expression: str, timeout: float = 10.0) -> None:
    """Poll a JS expression. (Playwright's wait_for_function evaluates strings with eval, which the
    page's Content-Security-Policy rightly forbids; page.evaluate goes through DevTools instead.)"""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        time.sleep(0.05)


XSS_CAPTION = 'A sign says <img src=x onerror="window.__xss=1"> and </script><!--'
XSS_REPLY = "<script>window.__xss=2</script> The bird is flying."


@pytest.fixture()
def page_file(tmp_path: Path, coco_mini: Path) -> Path:
    ctx = contexts_from_coco(coco_mini)
    ctx[1]["captions"].append(XSS_CAPTION)
    contexts = write_jsonl(tmp_path / "contexts.jsonl", ctx)
    run = tmp_path / "run"
    made = make_run(run, ctx)
    made["results"][0]["conversations"][1]["value"] = XSS_REPLY
    write_jsonl(run / "results.jsonl", made["results"])
    out = tmp_path / "site" / "review.html"
    with pytest.raises(SystemExit) as exit_info:
        main(["review", str(run), "--images", str(coco_mini / "val2017"), "--out", str(out),
              "--contexts", str(contexts), "--include-failures"])  # fmt: skip
    assert exit_info.value.code == 0
    return out


def test_review_page_in_chromium(browser, page_file: Path, coco_mini: Path, tmp_path: Path):
    context = browser.new_context(viewport={"width": 1360, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(page_file.as_uri())

    cards = page.locator("article.card")
    assert cards.count() == 9  # 8 samples + 1 standing failure
    # Walk every card with j (lazy images load as they scroll into view), then all images must be decoded.
    for _ in range(cards.count()):
        page.keyboard.press("j")
    wait_until(page, "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
    assert len(widths) == 9 and all(w > 0 for w in widths)
    assert "current" in (cards.nth(8).get_attribute("class") or "")

    # Boxes sit where COCO's pixel annotations put them, scaled to the displayed image size.
    card = page.locator('article.card[data-key="conversation:000000229358"]')
    card.scroll_into_view_if_needed()
    img = card.locator("img").bounding_box()
    boxes = [card.locator(".box").nth(i).bounding_box() for i in range(card.locator(".box").count())]
    expected = raw_boxes(coco_mini, 229358)
    assert len(boxes) == len(expected) == 10
    sx, sy = img["width"] / 640, img["height"] / 423
    for (_, (x, y, w, h)), got in zip(expected, boxes, strict=True):
        assert got["x"] == pytest.approx(img["x"] + x * sx, abs=1.5)
        assert got["y"] == pytest.approx(img["y"] + y * sy, abs=1.5)
        assert got["width"] == pytest.approx(w * sx, abs=1.5)
        assert got["height"] == pytest.approx(h * sy, abs=1.5)
    labels = card.locator(".box span").all_text_contents()
    assert labels == [c for c, _ in expected]

    # Data text is shown as text, never run.
    assert page.evaluate("window.__xss") is None
    assert page.get_by_text(XSS_CAPTION, exact=True).count() == 3
    assert page.get_by_text(XSS_REPLY, exact=True).count() == 1

    # Task filter hides the other tasks' cards; text search narrows further.
    page.select_option("#task-filter", "conversation")
    assert [c.get_attribute("data-task") for c in cards.all() if c.is_visible()] == ["conversation"] * 3
    assert cards.count() == 3 and page.inner_text("#visible-count") == "3 of 9 cards"
    page.fill("#search", "motorcycle")
    wait_until(page, "document.querySelectorAll('article.card').length === 1")
    assert cards.get_attribute("data-key") == "conversation:000000165518"
    page.fill("#search", "")
    page.select_option("#task-filter", "")
    wait_until(page, "document.querySelectorAll('article.card').length === 9")

    # Reject two samples (button and keyboard), accept one; the download lists exactly the rejected.
    page.locator('article.card[data-key="detail_description:000000165518"] button.rej').click()
    page.locator('article.card[data-key="conversation:000000126107"] button.acc').click()
    page.keyboard.press("k")  # from the accepted first card, k stays on it: then move to card 2
    page.keyboard.press("j")
    page.keyboard.press("r")
    assert page.inner_text("#n-rejected") == "2" and page.inner_text("#n-accepted") == "1"
    with page.expect_download() as dl:
        page.click("#download")
    saved = tmp_path / "rejected-ids.json"
    dl.value.save_as(saved)
    rejected = json.loads(saved.read_text())
    assert rejected == ["detail_description:000000126107", "detail_description:000000165518"]
    assert page.evaluate("window.datagenReview.rejectedIds()") == rejected

    # The export/adapt commands honour that file: the rejected samples are left out.
    ids = read_id_list(saved)
    kept = load_many([page_file.parent.parent / "run"], exclude_ids=ids)
    assert len(kept) == 6 and not {r["sample_id"] for r in kept} & ids
    adapted = tmp_path / "kept.json"
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "adapt",
                "llava",
                str(page_file.parent.parent / "run"),
                "--exclude-ids",
                str(saved),
                "--out",
                str(adapted),
            ]
        )
    assert exit_info.value.code == 0
    replies = [r["conversations"][1]["value"] for r in json.loads(adapted.read_text())]
    assert len(replies) == 6
    assert not [
        t
        for t in replies
        if t.startswith("In this detail_description sample the picture of image 000000126107")
    ]
    assert not [
        t
        for t in replies
        if t.startswith("In this detail_description sample the picture of image 000000165518")
    ]
    assert [
        t for t in replies if t.startswith("In this conversation sample the picture of image 000000165518")
    ]

    # A screenshot that is not blank: many colours and real contrast.
    page.evaluate("window.scrollTo(0, 0)")
    shot = tmp_path / "review.png"
    page.screenshot(path=str(shot))
    from PIL import Image, ImageStat

    with Image.open(shot) as im:
        rgb = im.convert("RGB")
        assert rgb.size == (1360, 900)
        assert len(rgb.getcolors(maxcolors=1 << 20) or []) > 500
        assert max(ImageStat.Stat(rgb).stddev) > 20
    if os.environ.get("DATAGEN_KEEP_SCREENSHOT"):
        shutil.copy(shot, os.environ["DATAGEN_KEEP_SCREENSHOT"])
    assert errors == []
    context.close()


def test_large_page_draws_in_batches_and_keeps_decisions(browser, tmp_path: Path, coco_mini: Path):
    from support.review_support import llava_record

    ctx = contexts_from_coco(coco_mini)
    run = tmp_path / "run"
    run.mkdir()
    rows = []
    for i in range(150):
        rec = llava_record(ctx[i % 3], "conversation", f"Answer number {i} about the picture.")
        rec["sample_id"] = f"conversation:{i}"
        rows.append(rec)
    write_jsonl(run / "results.jsonl", rows)
    write_jsonl(run / "contexts.jsonl", ctx)  # found in the run dir without --contexts
    out = tmp_path / "review.html"
    with pytest.raises(SystemExit) as exit_info:
        main(["review", str(run), "--images", str(coco_mini / "val2017"), "--out", str(out), "--embed"])
    assert exit_info.value.code == 0

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(out.as_uri())
    cards = page.locator("article.card")
    assert cards.count() == 40  # the first batch only
    assert page.inner_text("#visible-count") == "150 of 150 cards"
    for _ in range(45):  # j past the end of the batch draws the next one
        page.keyboard.press("j")
    assert cards.count() == 80
    assert page.locator("article.card.current").get_attribute("data-key") == "conversation:44"
    page.keyboard.press("r")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    wait_until(page, "document.querySelectorAll('article.card').length > 80")
    # Embedded thumbnails decode like linked files.
    assert page.evaluate(
        "document.querySelector('article.card img').src.startsWith('data:image/jpeg;base64,')"
    )
    wait_until(page, "(i => i.complete && i.naturalWidth > 0)(document.querySelector('article.card img'))")

    # Search matches a card that has not been drawn yet; decisions survive a reload.
    page.fill("#search", "answer number 149")
    wait_until(page, "document.querySelectorAll('article.card').length === 1")
    page.locator("article.card button.rej").click()
    page.reload()
    assert page.evaluate("window.datagenReview.rejectedIds()") == ["conversation:44", "conversation:149"]
    page.keyboard.press("j")
    page.keyboard.press("a")
    assert page.inner_text("#n-accepted") == "1" and "accepted" in cards.first.get_attribute("class")
    page.keyboard.press("u")
    assert page.inner_text("#n-accepted") == "0" and page.inner_text("#n-rejected") == "2"
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search"
    page.keyboard.press("Escape")
    page.select_option("#status-filter", "rejected")
    assert [c.get_attribute("data-key") for c in cards.all()] == ["conversation:44", "conversation:149"]
    assert all("rejected" in (c.get_attribute("class") or "") for c in cards.all())
    context.close()


def test_keys_act_on_the_first_card_when_none_is_selected(browser, page_file: Path):
    """Opening the page and pressing `a` (or `r`) decides the first card, not nothing."""
    for key, state in (("a", "accepted"), ("r", "rejected")):
        context = browser.new_context(viewport={"width": 1360, "height": 900})
        page = context.new_page()
        page.goto(page_file.as_uri())
        first = page.locator("article.card").first
        assert "current" not in (first.get_attribute("class") or "")
        page.keyboard.press(key)
        assert state in (first.get_attribute("class") or "") and "current" in (
            first.get_attribute("class") or ""
        )
        assert page.inner_text(f"#n-{state}") == "1"
        page.keyboard.press("u")  # and u undoes it on the same (now current) card
        assert state not in (first.get_attribute("class") or "")
        context.close()
