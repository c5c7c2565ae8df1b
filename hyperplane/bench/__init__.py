"""The packet-rate benchmark behind ``hyperplane bench``.

- ``targets``: the rates compared against (line rates, rates on record), with sources;
- ``workloads``: the trace and prepared stages every measurement shares;
- ``stage``: what a stage and its timed round are;
- ``registry``: the stages, each a name, how to prepare one timed round, and its baselines
  (``pcap``: the capture reader and writer beside dpkt);
- ``runner``: interleaved rounds, medians, ratios against baselines of the same run;
- ``report``: the text table.
"""

from hyperplane.bench.registry import stages
from hyperplane.bench.report import format_table
from hyperplane.bench.runner import StageResult, run
from hyperplane.bench.stage import Round, Skip, Stage, timed
from hyperplane.bench.targets import TARGETS, Target, line_rate_mpps
from hyperplane.bench.workloads import Workload

__all__ = ["TARGETS", "Round", "Skip", "Stage", "StageResult", "Target", "Workload", "format_table",
           "line_rate_mpps", "run", "stages", "timed"]
