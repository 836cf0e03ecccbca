"""The generic core: units, lifetimes, dynamic stock models, process systems, the model protocol.

Knows no material, no file and no command line.
"""
