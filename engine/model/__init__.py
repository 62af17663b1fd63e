"""The engine's records, one module per concept: ``config`` (a container's configuration and state as
stored on disk), ``container`` (a container as the API shows it), ``image`` (an image, its layers and
history), ``network`` (a network and a container's endpoint on it), ``volume`` (a named volume),
``reports`` (what prune, remove, ``system df`` and ``top`` report). Plain records, no behaviour; they
import nothing of the engine but ``engine.lean.record``."""
