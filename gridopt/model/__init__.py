"""The formulation: one module per family of constraints, assembled by `registry`.

Each family module has the same small interface:

- ``build(model: LinearModel) -> None`` adds its variables, rows, costs and balance injections;
- ``results(solution: Solution) -> dict[str, DataFrame]`` returns its tidy result tables
  (tables of the same name from several families are stacked, e.g. ``generation``, ``costs``).

The nodal balance comes last because it collects every injection registered before it; the
gas family comes after generation because it burns the output of gas-fired generators.
"""
