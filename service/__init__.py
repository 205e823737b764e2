"""analogwatch: a controlled-substance analog watchlist."""

__version__ = "0.1.0"
