"""Errors of the `segue` command, importable without the local mesh's dependencies."""


class MeshError(RuntimeError):
    """The local mesh could not start, or could not keep running."""
