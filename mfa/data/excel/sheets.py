"""The sheets of a parameter workbook (:mod:`mfa.data.excel`) and the openpyxl import."""

from __future__ import annotations

import re
from typing import Any

from mfa.core.errors import ParameterError

__all__ = ["MODEL_SHEET", "NOT_DATA", "README_SHEET", "REGISTRY_SHEET", "SCENARIO_PREFIX",
           "SOURCES_SHEET", "openpyxl_module"]

README_SHEET = "README"
SOURCES_SHEET = "sources"
MODEL_SHEET = "model.toml"
REGISTRY_SHEET = "registry.toml"
#: A scenario ``scenarios/NAME.toml`` is the sheet ``"scenario NAME"``.
SCENARIO_PREFIX = "scenario "
NOT_DATA = (README_SHEET, SOURCES_SHEET, MODEL_SHEET, REGISTRY_SHEET)
NUMBER_COLUMNS = ("value", "low", "high")
MAX_SHEET_NAME = 31  # Excel's limit
BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
MAX_BASE_DEPTH = 50


def openpyxl_module() -> Any:
    """The openpyxl module, or a ParameterError saying how to install it."""
    try:
        import openpyxl
    except ImportError:
        raise ParameterError('Excel workbooks need openpyxl: pip install "nd-mfa[excel]"') from None
    return openpyxl
