"""Plans as data, shared by `bootstrap` and `deploy-lambda`: the model (`model`),
the one executor (`executor`) and the one set of bounded waits (`waits`).

Imports nothing of `infra` or `release`: both build plans out of it, and `infra`
imports `release`, never the other way round.
"""
