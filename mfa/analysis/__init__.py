"""Analysis on top of the generic core: reconciliation of conflicting data, and more.

Modules here import only the core (process systems, units, errors), never a material model
or the command line.
"""
