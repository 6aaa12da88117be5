"""Otos opinions: how a panel voted on statements. Polis-style opinion groups,
representative statements, consensus and divisiveness (``analysis``), read from a Polis
export or Otos's votes CSV (``data``), compared by stratum and weighted to the
population (``strata``), summarised as JSON, text, PDF and CSV (``summary``, ``report``).
Never imports textual."""
