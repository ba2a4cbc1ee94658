"""Benchmarks that print their figures next to baselines measured in the same run.

``python -m bench.crypto`` (protocol core against raw AEAD and vodozemac) and
``python -m bench.relay`` (relay throughput and latency). Not timed tests: run them by hand
or with ``make bench``.
"""
