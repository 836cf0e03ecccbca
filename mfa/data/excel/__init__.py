"""A parameter directory as one Excel workbook, for people who edit data in a spreadsheet.

:func:`parameter_workbook` (``mfa params export FILE.xlsx``) writes a valid parameter directory
as a workbook; :func:`read_parameter_workbook` (what :func:`~mfa.data.params.load_parameters`
and ``mfa run --params FILE.xlsx`` call for a ``.xlsx`` path) reads it back with the same checks
as the CSV files. Sheets:

``README``
    What each sheet is, how to edit, the units rule, every parameter with its unit (not read).
one sheet per data file (``drivers``, ``technology``...)
    The columns of the CSV file (``parameter, <dims>, year, value, unit, low, high, source,
    note``), header in row 1, one value per row.
``sources``
    ``sources.csv``: the bibliography.
``model.toml``, ``registry.toml``, ``scenario NAME``
    The text of these files (``scenario NAME``: ``scenarios/NAME.toml``), one line per row in
    column A, so that an error "at line N" is in row N.

Modules: ``mfa.data.excel.sheets`` (the sheet names), :mod:`~mfa.data.excel.export`
(writing), :mod:`~mfa.data.excel.read` (reading, scenarios included).

Errors name the workbook, the sheet, the Excel row and, for a cell, the column
(``book.xlsx, sheet 'drivers', row 12, column F (value): ...``). openpyxl (extra ``excel``) is
imported only when a workbook is written or read.
"""

from mfa.data.excel.export import parameter_workbook
from mfa.data.excel.read import read_parameter_workbook, workbook_scenario, workbook_scenarios
from mfa.data.excel.sheets import (
    MODEL_SHEET,
    README_SHEET,
    REGISTRY_SHEET,
    SCENARIO_PREFIX,
    SOURCES_SHEET,
)

__all__ = [
    "MODEL_SHEET",
    "README_SHEET",
    "REGISTRY_SHEET",
    "SCENARIO_PREFIX",
    "SOURCES_SHEET",
    "parameter_workbook",
    "read_parameter_workbook",
    "workbook_scenario",
    "workbook_scenarios",
]
