"""The version alone, importable by anything without importing the app."""

__version__ = "0.1.0"
