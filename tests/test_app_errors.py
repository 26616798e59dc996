"""The browser page when a week fails: the page shows the failure and keeps working
(rendered without a browser, as in tests/test_app.py)."""

from __future__ import annotations

from datetime import timedelta

from model.model import CohesionModel
from viz import app


class SubmodelFailure(RuntimeError):
    pass


def test_a_failing_step_leaves_a_message_not_an_exception(monkeypatch):
    m = app.PageModel(scale="0.02", seed="1")
    m.step()
    assert m.problem is None and m.steps == 1

    def broken(self):
        raise SubmodelFailure("distress went negative")

    monkeypatch.setattr(CohesionModel, "step", broken)
    m.step()  # raises nothing
    assert m.running is False and m.step_failed
    assert (
        m.problem.startswith(f"week 2 (from {(m.start_date + timedelta(days=7)).isoformat()})")
        and "SubmodelFailure: distress went negative" in m.problem
    )
    rows = len(m.datacollector.get_model_vars_dataframe())
    problem = m.problem
    m.step()  # the stopped run stays stopped
    assert m.problem == problem and len(m.datacollector.get_model_vars_dataframe()) == rows


def test_page_shows_a_failed_week_and_recovers_on_reset(monkeypatch):
    import ipyvuetify as v
    import ipywidgets
    import solara

    monkeypatch.setattr(app, "PAGE_SCALE", 0.05)
    box, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)

    def week() -> str:
        found = rc.find(v.Html, class_="cohesion-week")
        found.assert_single()
        return found.widget.children[0]

    def page_text() -> str:
        texts = []
        for widget in rc.find(ipywidgets.Widget).widgets:
            for attr in ("value", "children"):
                val = getattr(widget, attr, None)
                texts += [val] if isinstance(val, str) else [c for c in (val or ()) if isinstance(c, str)]
        return " ".join(texts)

    assert week().startswith("Week 0 of")
    real_step = CohesionModel.step
    monkeypatch.setattr(CohesionModel, "step", lambda self: (_ for _ in ()).throw(SubmodelFailure("no support ties")))
    rc.find(v.Btn, children=["Step"]).widget.click()
    alert = rc.find(v.Alert, class_="cohesion-problem")
    alert.assert_single()
    text = " ".join(str(c) for c in alert.widget.children)
    assert "The run stopped: week 1" in text and "SubmodelFailure: no support ties" in text
    assert "Traceback" not in page_text()
    # the page keeps working: Reset builds a new run that steps
    monkeypatch.setattr(CohesionModel, "step", real_step)
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert week().startswith("Week 0 of")
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert week().startswith("Week 1 of")
    assert not rc.find(v.Alert, class_="cohesion-problem").widgets
    rc.close()
