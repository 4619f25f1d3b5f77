"""The time kept back from a caller's deadline, named in one place.

A request crosses up to three hops; each keeps a little of its deadline for itself, so the hop below
gives up first and every hop can still answer — with a partial result or an error that names what was
slow — instead of its caller seeing a bare "Deadline Exceeded":

    orchestrator  deadline ─┬─ RANK_AND_ANSWER_S: optional steps end this much early, to rank what arrived
    each gRPC hop           ├─ PROPAGATION_S: a downstream call's deadline ends this much before ours
    each upstream call      └─ ANSWER_S: a wait or a last attempt leaves this much to answer (or fall back)
"""

from __future__ import annotations

RANK_AND_ANSWER_S = 0.25
PROPAGATION_S = 0.15
ANSWER_S = 0.05
