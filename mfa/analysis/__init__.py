"""Analysis layer: indicators, reconciliation, sampling, ensembles and Sobol sensitivity.

Works on any model (:mod:`mfa.core.model`); never imports :mod:`mfa.models` or :mod:`mfa.cli`.
"""
