"""Stand-ins for the standard library on the start-up path, all in one place.

Every dockyard command is a new Python process and each container has a supervisor forked from one, so what
they import is most of what they cost. The standard modules below pull in ``re``, ``enum``, ``collections``,
``inspect`` and more (together ~10 ms a process); these small stand-ins do the part the engine needs:

- ``tools``: ``suppress``, ``contextmanager``, ``cache``, ``cached_property`` (for ``contextlib``, ``functools``)
- ``jsonio``: ``loads``, ``dumps`` through the C codec ``_json`` (for ``json``)
- ``record``: ``@record``, ``field``, ``asdict``, ``replace`` (for ``dataclasses``)

The command line's own stand-in for ``argparse`` is ``app/cli/flags.py``. Type checkers see the standard
modules. The modules on the start path that must use these (no ``contextlib``, ``functools``, ``json``,
``dataclasses`` there) are named by tests/engine/runtime/test_start_imports.py and tests/app/cli/test_commands.py.
"""
