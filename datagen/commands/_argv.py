"""Rebuild the command line a user typed, for dataset cards and metadata ("how was this made").

Works the same whether the CLI runs as a script or in-process (`cli.main([...])`), unlike
`sys.argv`; only parameters given on the command line appear, in declaration order.
"""

from __future__ import annotations

import shlex
from typing import Any


def typed_command(ctx: Any, prefix: str) -> str:
    """`prefix` plus the arguments and options of `ctx` (a typer/click Context) given on the command line."""
    parts = [prefix]
    for param in ctx.command.params:
        source = ctx.get_parameter_source(param.name) if param.name else None
        if source is None or source.name != "COMMANDLINE":
            continue
        value = ctx.params.get(param.name)
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        if param.param_type_name == "argument":
            parts += [shlex.quote(str(v)) for v in values]
        elif getattr(param, "is_flag", False):
            if value:
                parts.append(param.opts[0])
        else:
            parts += [f"{param.opts[0]} {shlex.quote(str(v))}" for v in values]
    return " ".join(parts)
