"""The Sourdine relay: a headless store-and-forward server that only ever sees ciphertext."""
