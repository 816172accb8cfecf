"""`datagen review`: a self-contained HTML page for looking at generated samples beside their images.

Flow: `gather` (samples, failures, run.json, contexts) → `images` (resolve under ROOT, link or embed)
→ `card` / `page` (escaped HTML, inline CSS/JS) → one file written atomically.
"""

from datagen.review.build import ReviewResult, build_review

__all__ = ["ReviewResult", "build_review"]
