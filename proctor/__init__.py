"""proctor: independent, external verification for self-improving AI systems."""

__version__ = "0.1.0"
