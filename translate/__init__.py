"""translate: Arabic→English translation and parallel-corpus tool."""
__version__ = "0.1.0"
