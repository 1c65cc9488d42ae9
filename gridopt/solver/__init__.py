"""Solving: the model's matrix, a solver backend, and the solution it gives back.

- `types`: solver-neutral `Status`, `Matrix`, `Outcome`, `Solution` (what families read);
- `matrix`: the model as one standard-form matrix;
- `backends`: backends by name; `highs` is the HiGHS backend, the only module importing highspy;
- `solve`: `solve(model, options) -> Solution`, with MIP prices from the LP with integers fixed;
- `diagnose`: infeasible models explained in words, unbounded ones by their ray.
"""
