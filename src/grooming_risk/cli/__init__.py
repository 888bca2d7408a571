"""Command-line interface: thin wrappers over the package's stage functions."""
