"""Reports of runs and sweeps: terminal tables (rich), plots (matplotlib) and one HTML page.

Everything here reads a report's plain data (``Run.data``, a sweep's ``sweep.json``), never a
live stage: a saved run is shown exactly as it was when it ran.
"""

from hyperplane.report.plots import PLOTS, available, figure
from hyperplane.report.tables import print_run, print_sweep, sections

__all__ = ["PLOTS", "available", "figure", "print_run", "print_sweep", "sections"]
