"""Step 4: run a task's jobs. `generate.run_generate` is the one entry point behind
`datagen generate`: it builds the jobs, then sends them live (`runner`), through the Batch API
(`batch`), computes them without a model (`direct`) or only writes them (`dryrun`), judging every
reply with the task's parser and filters (`outcome`) and recording everything in the run directory."""
