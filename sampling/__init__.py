"""Sampling: the stratified invitation sample (stage 1) and the fair panel lottery (stage 2).

Never imports textual. The fair lottery follows Flanigan, Gölz, Gupta, Hennig and
Procaccia, "Fair algorithms for selecting citizens' assemblies" (Nature, 2021):
leximin-optimal selection probabilities over all quota-feasible panels, computed by
column generation (``sampling.leximin``), written down exactly as a lottery over panels
(``sampling.lottery``) and one panel drawn from it by a sampler defined on SHA-256
alone, which anyone can check without a solver (``sampling.record``).
"""
