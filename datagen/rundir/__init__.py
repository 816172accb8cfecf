"""The run directory on disk and its one owner: `results.jsonl`, `failures.jsonl`,
`requests.jsonl`, `run.json` and task side files are named, read and written only here
(`store`), and generated samples are read back from any form they take (`samples`)."""
