"""Building images from a Dockerfile (``dockyard build``).

Reading a Dockerfile: ``parser`` turns the text into instructions (with line numbers for every error),
``words`` expands ``$VARIABLES`` the way Docker does, ``dockerignore`` decides which files of the context a
build may see.

Running a build: ``Images.build``/``build_stream``/``watch`` (the public API) take an ``options.BuildOptions``
and drive a ``builder.Builder`` over the image store; ``plan`` works out which
stages the target needs; ``builder`` drives the stages; ``steps/`` executes instructions (``run`` in a real
dockyard container whose writable layer is committed, with the ``RUN --mount``s of ``mounts``; ``copy`` for
COPY/ADD straight into a deterministic layer tar, ``meta`` for the config-only ones); ``state`` is a stage's
image config as it grows; ``context`` walks and checksums the build context, ``streamed`` unpacks one given on
standard input; ``cache`` maps a step's key (parent + instruction + file checksums) to the layer it made, and
``cachemounts`` keeps the directories of cache mounts; ``events`` are the progress records the CLI and the app
render; ``watch`` rebuilds on change.
"""
