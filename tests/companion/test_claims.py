import numpy as np
import pytest
import torch

import fieldguide as fg


def test_check_prints_a_row_and_returns_the_verdict(capsys):
    assert fg.claims.check("slope is -1/2", paper=6, expected="-0.5", measured="-0.52", holds=True) is True
    assert fg.claims.check("kernel stays put", paper=6, expected="0", measured="0.3", holds=np.bool_(False)) is False
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "[PASS] slope is -1/2: measured -0.52 (paper: -0.5)",
        "[FAIL] kernel stays put: measured 0.3 (paper: 0)",
    ]
    assert fg.claims.check("t", paper=1, expected="a", measured="b", holds=torch.tensor(True)) is True


def test_check_publishes_a_mime_bundle_in_ipython(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.get_ipython", lambda: object())
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False, metadata=None: shown.append((obj, raw, metadata)))
    fg.claims.check("c", paper=32, expected="e", measured="m", holds=True)
    ((bundle, raw, metadata),) = shown
    row = {"paper": 32, "claim": "c", "expected": "e", "measured": "m", "holds": True}
    assert raw and metadata == {fg.claims.METADATA_KEY: row}
    assert bundle == {"text/plain": "[PASS] c: measured m (paper: e)"}
    stored = [{"output_type": "display_data", "data": bundle, "metadata": metadata}, {"output_type": "stream", "text": "x"}]
    assert fg.claims.stored_rows(stored) == [row]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"paper": 0}, "paper"), ({"measured": 0.5}, "measured"), ({"expected": ""}, "expected"), ({"claim": " "}, "claim")],
)
def test_check_rejects_bad_arguments(kwargs, name):
    args = {"claim": "c", "paper": 1, "expected": "e", "measured": "m", "holds": True} | kwargs
    with pytest.raises(ValueError, match=name):
        fg.claims.check(**args)
