"""Sampling: the stratified invitation sample (stage 1) and the fair panel lottery (stage 2).

Never imports textual. The fair lottery follows Flanigan, Gölz, Gupta, Hennig and
Procaccia, "Fair algorithms for selecting citizens' assemblies" (Nature, 2021):
leximin-optimal selection probabilities over all quota-feasible panels, computed by
column generation (``sampling.leximin``), then one panel drawn from that distribution
by a seeded, verifiable lottery (``sampling.lottery``).
"""
