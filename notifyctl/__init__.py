"""notifyctl: the operator's command line for the book-notification pipeline."""

__version__ = "0.1.0"
