"""`datagen export FORMAT ...`: the export command group; each format registers from its own module."""

from __future__ import annotations

import importlib

import typer

# Modules exposing `register(export_app)`, one per export format.
EXPORT_MODULES: list[str] = [
    "datagen.commands.export_llava",
    "datagen.commands.export_hf",
    "datagen.commands.export_minigpt4",
]


def register(app: typer.Typer) -> None:
    export_app = typer.Typer(
        help="Export generated samples (LLaVA JSON, HF datasets, MiniGPT-4).", no_args_is_help=True
    )
    for name in EXPORT_MODULES:
        importlib.import_module(name).register(export_app)
    if EXPORT_MODULES:
        app.add_typer(export_app, name="export")
