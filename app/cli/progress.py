"""Progress display for long work: a rich spinner/bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

ProgressFn = Callable[[str, int, int], None]


@contextmanager
def progress(title: str, quiet: bool = False) -> Iterator[ProgressFn]:
    if quiet:
        yield lambda _m, _c, _t: None
        return
    if not sys.stderr.isatty():
        last = [""]

        def plain(message: str, current: int, total: int) -> None:
            if message != last[0]:
                last[0] = message
                sys.stderr.write(f"{title}: {message}\n")

        yield plain
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.fields[title]}[/]"),
        BarColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as p:
        task = p.add_task("", total=None, title=title)

        def update(message: str, current: int, total: int) -> None:
            p.update(task, description=message, completed=current, total=total or None)

        yield update
