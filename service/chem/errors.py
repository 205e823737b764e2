"""Errors raised at the chemistry boundary instead of RDKit's silent None."""


class StructureError(ValueError):
    """A structure could not be parsed or standardized; the message says why."""
