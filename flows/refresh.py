"""Deployment entry point of the refresh flow (``prefect.yaml``: ``flows/refresh.py:refresh``).

The flow itself lives in the package, :mod:`migstock.flow`, so that an installed
wheel runs it too; this file only names it for ``prefect deploy`` and workers.
"""

from migstock.flow import refresh, run_summary, scheduled_deployment

__all__ = ["refresh", "run_summary", "scheduled_deployment"]
