"""Generation tasks: each turns input rows into jobs, parses replies into samples, and filters them.

`base` is the contract between a task and the engine; `registry` names every task; one folder per
family holds its task classes, reply parsers, filters and input readers (`llava/`, `grounded/`,
`rewrite/`, `vqa/`).
"""
