"""A quiet HiGHS (highspy) instance: the solver for the lottery's LPs and integer programs."""
from __future__ import annotations

import os
import sys

import highspy

_announced = False


def new_highs() -> highspy.Highs:
    """A HiGHS instance that prints nothing (stdout may be JSON for a caller).

    HiGHS prints a banner from C++ when the first instance is made; that first time
    the process's stdout is pointed at /dev/null.
    """
    global _announced
    if not _announced:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.close(devnull)
            h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _announced = True
    else:
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)  # same answer on every run: the lottery must be verifiable
    h.setOptionValue("random_seed", 0)
    return h


INF = highspy.kHighsInf
OPTIMAL = highspy.HighsModelStatus.kOptimal
INFEASIBLE = highspy.HighsModelStatus.kInfeasible
SOLUTION_LIMIT = highspy.HighsModelStatus.kSolutionLimit
INTEGER = highspy.HighsVarType.kInteger
