"""Observers and judges that score behaviour, rule-based or LLM-backed (see :mod:`.base`)."""

from agentsim.judges.base import (
    AsyncJudge,
    Judge,
    Judgement,
    LLMJudge,
    Verdict,
    item_seeds,
    judge_all,
)

__all__ = ["AsyncJudge", "Judge", "Judgement", "LLMJudge", "Verdict", "item_seeds", "judge_all"]
