"""MicroQ: waiting lines (lines), work items (work) and topics, over HTTP, on Redis."""

__version__ = "0.1.0"
