"""RunTasks' choices, as plain functions."""

from __future__ import annotations

from segue.v1 import llm_gateway_pb2

from services.llm_gateway.tasks import choose_result


def test_max_choices_zero_caps_a_choice_at_its_candidates_only() -> None:
    candidates = [llm_gateway_pb2.Candidate(id=f"t{i}") for i in range(3)]
    uncapped = llm_gateway_pb2.ChooseCandidatesTask(candidates=candidates)
    assert list(choose_result(uncapped, ["t2", "x", "t0", "t1", "t2"], "").chosen_ids) == ["t2", "t0", "t1"]
    capped = llm_gateway_pb2.ChooseCandidatesTask(candidates=candidates, max_choices=1)
    assert list(choose_result(capped, ["t2", "t0"], "").chosen_ids) == ["t2"]
