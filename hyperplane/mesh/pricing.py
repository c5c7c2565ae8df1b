"""What cross-AZ bytes cost: AWS's inter-AZ data transfer rate, with the text it comes from.

AWS, "Amazon EC2 On-Demand Pricing" (https://aws.amazon.com/ec2/pricing/on-demand/), section
"Data Transfer within the same AWS Region": "Data transferred "in" to and "out" from Amazon EC2,
Amazon RDS, Amazon Redshift, Amazon DynamoDB Accelerator (DAX), Amazon ElastiCache instances, and
Elastic Network Interfaces across Availability Zones in the same AWS Region is charged at $0.01/GB
in each direction." and "Data transferred between Amazon EC2, Amazon RDS, Amazon Redshift, Amazon
ElastiCache instances, and Elastic Network Interfaces in the same Availability Zone is free."

Read from a copy of the page's text kept in a public repository (a capture from after July 2024:
it carries the page's notice of the RHEL price change of July 1, 2024), not from the live page.
Check the page before relying on the figure: prices change.

"In each direction" is read as AWS bills it: a byte that crosses is charged once leaving one
zone and once entering the other, so a crossing byte costs $0.02/GB in all.
"""

from __future__ import annotations

from typing import Final

INTER_AZ_USD_PER_GB_EACH_DIRECTION: Final = 0.01
"""AWS's rate for data crossing Availability Zones in one region, charged out and again in."""

GB: Final = 10**9
"""Bytes per GB in this cost (decimal). An estimate of AWS's unit: the pricing page does not say."""


def cross_az_cost_usd(crossing_bytes: int) -> float:
    """Dollars for ``crossing_bytes`` that crossed zones: charged leaving one zone and entering the other."""
    return crossing_bytes / GB * INTER_AZ_USD_PER_GB_EACH_DIRECTION * 2
