"""Step 2: turn a context record into the text a model reads: the symbolic context (captions,
then one `category: [x1, y1, x2, y2]` line per box), the template folders (LLaVA's layout plus our
`task.toml`) and the instruction lists."""
