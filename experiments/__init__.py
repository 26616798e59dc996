"""Experiments on the Magog cohesion model: the command line, runs and their outputs."""
