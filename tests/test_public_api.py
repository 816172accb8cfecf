"""The public Python API: every name `datagen/__init__.py` promises imports, lazily."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import datagen

TRAINING = {"SupervisedDataset", "Collator", "ConversationTemplate", "ImageTransform", "llava_image_tokens"}


@pytest.mark.parametrize("name", sorted(set(datagen.__all__) - {"__version__"}))
def test_every_public_name_resolves(name):
    if name in TRAINING:
        pytest.importorskip("torch", reason="the training API needs the `train` extra")
    module, _, attr = datagen._API[name].partition(":")
    value = getattr(datagen, name)
    expected = importlib.import_module(module)
    assert value is (getattr(expected, attr) if attr else expected)


def test_import_is_lazy_and_unknown_names_fail():
    code = (
        "import sys, datagen; "
        "assert 'datagen.engine.runner' not in sys.modules and 'openai' not in sys.modules; "
        "datagen.run_jobs; assert 'datagen.engine.runner' in sys.modules; print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        datagen.nope  # noqa: B018


def test_documented_snippet_names_are_the_stage_modules():
    from datagen.engine.generate import run_llava
    from datagen.engine.options import llava_options
    from datagen.sources.load import SourceSpec

    assert datagen.run_llava is run_llava and datagen.llava_options is llava_options
    assert datagen.SourceSpec is SourceSpec
