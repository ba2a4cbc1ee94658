"""The Sourdine desktop client."""
