"""The client's behaviour, free of Qt and of direct I/O: it drives the adapters."""
