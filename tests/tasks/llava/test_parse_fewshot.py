"""Our own few-shot answers are what we ask the model to imitate: they must parse with their task's
parser and pass every quality filter (otherwise we would be teaching the model to be filtered)."""

from __future__ import annotations

import pytest

from datagen.prompts.templates import load_template
from datagen.tasks.base import TaskOptions
from datagen.tasks.filters import first_rejection
from datagen.tasks.llava.filters import active_filters
from datagen.tasks.registry import get_task


@pytest.mark.parametrize("task_name", ["conversation", "detail_description", "complex_reasoning"])
def test_bundled_examples_parse_and_pass_filters(task_name, coco_mini):
    from datagen.sources.load import SourceSpec, load_contexts

    task = get_task(task_name)
    tpl = load_template(task_name)
    assert len(tpl.examples) >= 2
    records, _ = load_contexts(SourceSpec(coco=coco_mini, split="val2017"))
    (job,) = list(task.build_jobs(records[:1], TaskOptions()))
    for _caps, answer in tpl.examples:
        pairs = task.parse(answer, job)
        if task_name == "conversation":
            assert len(pairs) >= 2
        else:
            assert len(pairs) == 1
        assert first_rejection(pairs, job, active_filters()) is None
