"""Claim checks: one printed, machine-readable row per claim a chapter tests.

A chapter's claim cell calls :func:`check` for each claim and asserts the result::

    assert fg.claims.check(
        "the empirical NTK approaches the analytic one like 1/sqrt(width)",
        paper=6, expected="slope -0.5", measured=f"slope {slope:.3f}", holds=-0.65 < slope < -0.35,
    )

Each call shows a readable line and, in a notebook, attaches the same row as JSON
to that output's metadata (key ``fieldguide_claim``); the book's reproduction
scorecard (appendix) is generated from these stored outputs at build time, so no
number in it is ever typed by hand. nbval compares the line, which carries every
number of the row.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

METADATA_KEY = "fieldguide_claim"


@dataclass(frozen=True)
class Claim:
    """One claim check: which paper, what it claims, its number, ours, and whether the claim held."""

    paper: int  # catalog id
    claim: str
    expected: str  # what the paper reports or predicts
    measured: str  # what the chapter measured, formatted
    holds: bool

    def line(self) -> str:
        verdict = "PASS" if self.holds else "FAIL"
        return f"[{verdict}] {self.claim}: measured {self.measured} (paper: {self.expected})"


def check(claim: str, *, paper: int, expected: str, measured: str, holds: bool) -> bool:
    """Print and publish one claim-check row; return ``holds`` for the chapter to assert.

    Parameters
    ----------
    claim
        The claim in a few words.
    paper
        The catalog id of the paper making it.
    expected
        The paper's number or prediction, as text (e.g. ``"slope -0.5"``, ``"< 0.14 d"``).
    measured
        What this run measured, already formatted (3-4 significant digits).
    holds
        Whether the measurement supports the claim (the chapter's test of it).
    """
    if not isinstance(claim, str) or not claim.strip():
        raise ValueError(f"claim must be a non-empty string, got {claim!r}")
    if isinstance(paper, bool) or not isinstance(paper, int) or paper < 1:
        raise ValueError(f"paper must be a catalog id (a positive int), got {paper!r}")
    for name, value in (("expected", expected), ("measured", measured)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must be a non-empty, formatted string, got {value!r}")
    if not isinstance(holds, bool):
        try:
            holds = bool(holds)  # numpy and torch booleans
        except (TypeError, RuntimeError) as err:
            raise TypeError(f"holds must be a boolean, got {type(holds).__name__}") from err
    row = Claim(paper=paper, claim=claim.strip(), expected=expected.strip(), measured=measured.strip(), holds=holds)
    _publish(row)
    return row.holds


def _publish(row: Claim) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display({"text/plain": row.line()}, metadata={METADATA_KEY: asdict(row)}, raw=True)
    else:
        print(row.line())


def stored_rows(outputs: list[dict]) -> list[dict]:
    """The claim rows attached to a notebook cell's stored ``outputs`` (as read from .ipynb JSON)."""
    if not isinstance(outputs, list):
        raise TypeError(f"outputs must be a cell's list of outputs, got {type(outputs).__name__}")
    return [out["metadata"][METADATA_KEY] for out in outputs if METADATA_KEY in out.get("metadata", {})]
