"""``mfa params export FILE.xlsx``: the parameter data as a workbook people can edit."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_cli"]


def _cmd_params_export(args: argparse.Namespace) -> int:
    """Write the parameter data (default: the model's own) as an Excel workbook."""
    from mfa.cli import _model
    from mfa.cli.console import status
    from mfa.core.errors import MfaError
    from mfa.io.outputs import OutputSet, protected_inputs, write_bytes

    if not args.file.lower().endswith(".xlsx"):
        raise MfaError(f"{args.file}: a parameter workbook is an Excel file ending in .xlsx")
    _model(args)
    with OutputSet(protected_inputs(args.params)) as outs:
        target = outs.file(args.file, "FILE.xlsx")
        from mfa.data.excel import parameter_workbook

        data = parameter_workbook(args.params)
        outs.write(target, lambda tmp: write_bytes(tmp, data))
    status(args, f"Parameter workbook written to {args.file} (edit it, then: mfa run --params "
           f"{args.file})")
    return 0


def add_cli(sub: Any) -> None:
    """Register ``mfa params export FILE.xlsx`` (the file is positional: it is the command's
    only output, see the conventions in :mod:`mfa.cli`)."""
    from mfa.cli import DEFAULT_MODEL, _add_verbosity

    p = sub.add_parser("params", help="export the parameter data (Excel workbook)")
    actions = p.add_subparsers(dest="params_command", required=True)
    e = actions.add_parser("export", help="write the parameter data (default: the model's own) "
                           "as an Excel workbook; 'mfa run --params FILE.xlsx' reads it back")
    e.add_argument("file", metavar="FILE.xlsx", help="the workbook to write")
    e.add_argument("--params", metavar="DIR", default=argparse.SUPPRESS,
                   help="parameter directory or workbook to export (default: the model's own data)")
    e.add_argument("--model", metavar="NAME", default=argparse.SUPPRESS,
                   help=f"material model (default {DEFAULT_MODEL})")
    _add_verbosity(e, argparse.SUPPRESS)
    e.set_defaults(func=_cmd_params_export)
