"""Settings for the whole suite.

Hypothesis's per-example deadline measures wall-clock time, which on a shared 2-core machine
(and under the sanitizers, several times slower) says more about the neighbours than about
the code: the suite runs without it. Examples stay random per run; a failure prints the seed.
"""

from hypothesis import settings

settings.register_profile("hyperplane", deadline=None)
settings.load_profile("hyperplane")
