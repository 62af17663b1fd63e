"""The instructions of a Dockerfile, one module per family: ``meta`` (config-only instructions), ``run``
(RUN in a container), ``copy`` (COPY, ADD and the directory WORKDIR creates)."""
