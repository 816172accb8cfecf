"""`datagen templates list|show`: see which prompt templates a task uses and exactly what they say."""

from __future__ import annotations

from pathlib import Path

import typer

TEMPLATES_DIR = typer.Option(
    None, "--templates-dir", show_default="bundled", help="Folder with one subfolder per task."
)


def list_cmd(templates_dir: Path | None = TEMPLATES_DIR) -> None:
    """List task template folders with their few-shot count, context fields and hash."""
    from datagen.prompts.templates import list_templates, load_template

    for name in list_templates(templates_dir):
        t = load_template(name, templates_dir)
        desc = t.config.get("description", "")
        typer.echo(
            f"{name}\t{len(t.examples)} examples\tcontext: {'+'.join(t.context_fields)}\thash {t.hash}\t{desc}"
        )


def show_cmd(
    task: str = typer.Argument(..., help="Task name or alias."), templates_dir: Path | None = TEMPLATES_DIR
) -> None:
    """Print a task's system message and few-shot pairs as they will be sent."""
    from datagen.prompts.templates import load_template
    from datagen.tasks.registry import canonical_task_name

    t = load_template(canonical_task_name(task), templates_dir)
    typer.echo(f"# {t.task} ({t.folder}, hash {t.hash}, context: {'+'.join(t.context_fields)})")
    typer.echo("## system\n" + t.system)
    for i, (caps, conv) in enumerate(t.examples):
        typer.echo(f"## example {i}: user\n{caps}\n## example {i}: assistant\n{conv}")
    if t.instructions:
        typer.echo("## instructions\n" + "\n".join(t.instructions))


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="List and show the few-shot prompt templates.", no_args_is_help=True)
    sub.command("list")(list_cmd)
    sub.command("show")(show_cmd)
    app.add_typer(sub, name="templates")
