"""Validation of estimated flows: the ``flows`` suite on a revision's check rows.

The rows come from :func:`migstock.flows.checks.flow_checks` (one per place, period,
sex and method, not one per flow); the suite ``expectations/flows.json`` judges them.
Its results name the dataset ``flows``: a blocking failure keeps that revision's flows
from being published and touches nothing else.
"""

from __future__ import annotations

import pandas as pd

from migstock.validate.gx import CheckResult, Validator

#: the dataset the results name (a blocking failure rejects the flows of the revision)
DATASET = "flows"
SUITE = "flows"


def validate_flows(
    validator: Validator,
    revision: int,
    checks: pd.DataFrame,
    run_name: str | None = None,
) -> list[CheckResult]:
    """Every expectation of the ``flows`` suite on ``checks`` (one revision's rows)."""
    return validator.run_suite(
        SUITE,
        checks,
        {},
        run_name,
        DATASET,
        revision,
        source=f"flows estimated from the {revision} stocks",
    )
