"""docs/backtest.md renders from its Jinja2 template with the figures of a hand-counted run."""

from __future__ import annotations

from importlib.resources import files

from test_backtest_rules import (
    ACETYLFENTANYL,
    AS_OF,
    ASPIRIN,
    BUTYRFENTANYL,
    FENTANYL,
    MT45,
    VALERYLFENTANYL,
    act,
    drugs,
    registry,
    sub,
)

from service.backtest import analysis
from service.backtest import service as bt


def _doc() -> str:
    # the registry of test_recall_lead_time_and_false_alarms_match_a_hand_count
    fent = sub("fentanyl", FENTANYL, [act("1971-05-01")])
    acetyl = sub("acetylfentanyl", ACETYLFENTANYL, [act("2016-06-15")], ["2015-06"])
    butyr = sub("butyrfentanyl", BUTYRFENTANYL, [act("2016-07-01")], ["2016-01-01"])
    mt45 = sub("mt-45", MT45, [act("2018-01-12")], ["2013-10"])
    snap = registry([fent, acetyl, butyr, mt45])
    run = bt.run(
        snap, as_of=AS_OF, background=drugs(ASPIRIN, VALERYLFENTANYL), jurisdictions=["US"]
    )
    return analysis.write_analysis(
        snap,
        as_of=AS_OF,
        default_fingerprint=run.fingerprint,
        default_threshold=0.40,
        runs=[run],
        figure="backtest.svg",
        elsewhere_threshold=0.40,
    )


def test_the_document_carries_the_hand_count() -> None:
    doc = _doc()
    assert doc.startswith("# Early-warning backtest: would the watchlist have flagged")
    assert "as of **2026-01-01**." in doc
    assert "over 2 ChEMBL approved drugs" in doc
    assert (
        "* 3 (substance, jurisdiction) tests of 3 substances first reported before their control; per jurisdiction: US 3.\n"
        in doc
    )
    # 2 of 3 warned, leads of 6.0 and 12.0 months (quartiles interpolated between the two),
    # one of the two background drugs flagged
    assert "| US | 3 | 2 | 0.67 | 9.0 (7.5 to 10.5) | 50.00% | 50.00% |\n" in doc
    assert "| all | 3 | 2 | 0.67 | 9.0 (7.5 to 10.5) | 50.00% | 50.00% |\n" in doc
    # butyrfentanyl holds fentanyl whole, and so does the background's valerylfentanyl; the
    # other warned test carries fentanyl's scaffold without holding it whole
    assert (
        "| US | 0 (FA 0.00%) | 2 (FA 50.00%) | 0 (FA 0.00%) | 0 (FA 0.00%) | 0 (FA 0.00%) "
        "| 0 (FA 0.00%) | 1 (FA 50.00%) | 1 (FA 0.00%) |\n" in doc
    )
    assert "| contains_controlled | 0.33 | 50.00% / 50.00% | 6.0 |\n" in doc
    assert "| shares_scaffold | 0.33 | 0.00% / 0.00% | 12.0 |\n" in doc
    # nothing is controlled outside the US: the new signals add nothing, before = after
    assert "| US | 0.67 | 50.00% / 50.00% | 0.67 | 50.00% / 50.00% | 9.0 |\n" in doc
    assert "| 0.40 (default) | 0.67 | 0.67 | 50.00% / 50.00% | 0.00 | 0.00% / 0.00% |\n" in doc
    assert "### Misses (1)\n" in doc
    assert (
        "| US | mt-45 | 2013-10 | 2018-01-12 (individual) | fentanyl (0.23) | fentanyl (0.23) [US] |"
        " nearest controlled in US: fentanyl at 0.23 < 0.40; no class definition in force covers"
        " or nearly covers it; it contains no substance controlled at t whole; it carries no"
        " scaffold of a substance controlled at t |" in doc
    )
    assert (
        "![Recall against false-alarm rate per fingerprint, and by threshold](backtest.svg)" in doc
    )
    assert "The product goal is recall ≥ 0.85 at ≤ 1% false alarms." in doc
    # the hand-built document ended with the counterfactual table's last line
    assert doc.endswith("| covered listings |\n|---|---|---|---:|---:|---|---:|---|---|\n")
    assert "{{" not in doc and "{%" not in doc


def test_the_template_ships_in_the_package() -> None:
    assert (files("service.backtest") / "templates" / "backtest.md.j2").is_file()
