"""Building images from a Dockerfile.

``parser`` turns Dockerfile text into instructions, ``words`` expands ``$VARIABLES`` in them the way Docker
does, and ``dockerignore`` decides which files of the build context a build may see.
"""
