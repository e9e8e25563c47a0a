"""Paths: the tree of an account, its names, cached listings and virtual files."""
