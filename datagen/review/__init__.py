"""Look at what a run made: `datagen review`'s self-contained HTML page and `datagen stats`.

Page flow: `gather` (samples, failures, run.json, contexts) → `images` (resolve under ROOT, link or
embed) → `payload` / `page` (escaped HTML, inline CSS/JS) → one file written atomically (`build`).
`stats` computes the task mix, turn counts, lengths and filter drops.
"""

from datagen.review.build import ReviewResult, build_review

__all__ = ["ReviewResult", "build_review"]
