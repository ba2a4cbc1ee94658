"""Known-answer data and the helpers that produce it: a literal reference Double Ratchet and
seeded session set-ups shared by the X3DH and ratchet tests."""
