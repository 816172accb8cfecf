"""Helpers shared by the test suite (and the benchmarks in bench/); nothing here is collected as tests.

pytest puts `tests/` on sys.path (`pythonpath` in pyproject.toml), so tests import these as
`from support.fakeserver import FakeServer`. Subprocess preludes and bench scripts do the same by
inserting the `tests/` folder (`support.paths.TESTS`) on sys.path.

- `paths`: the repository root, the tests folder, and where the shared COCO/CC3M samples are.
- `cli`: run `datagen ARGS` in-process or in a child interpreter, and check one-line errors.
- `jsonl`: read and write JSONL files the way the tests expect them.
- `fakeserver`: the loopback OpenAI-compatible server (API in its docstring; `fake_llm` fixture).
- `engine_helpers`: the `echo_qa` test task, job builders, and the CLI with that task registered.
- the rest hold one stage's fixtures: `contexthelpers`, `coco_contexts` (sources/prompts),
  `llava_helpers` (LLaVA scripted replies), `rewrite_samples`, `vqa` (VQA demo data),
  `export_fixtures`, `train_fixtures` (adapter), `review_support`.
"""
