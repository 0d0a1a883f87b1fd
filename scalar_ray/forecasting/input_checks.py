"""Input checks before a forecast is trusted (OpenSTEF's practice), before training and before every issue.

A model fed a stuck meter, a feed that stopped, or a few days of data still answers, and confidently. These checks
find those inputs first; the caller then lets the family's baseline (SeasonalNaive) issue the forecast instead, and
says so. Each check is a pure function of the frame:

- too little history: the targets cover less than the family's ``min_history``;
- too little recent data: less than ``checks.min_recent_share`` of the targets' recent intervals were observed
  (the rest would be interpolated);
- stale: the targets' newest actual is later than its usual publication delay by more than ``checks.stale_after``;
- flat-lining: a target has not changed over the last ``checks.flatline`` of the history, or a past covariate (an
  actual) has repeated one value other than zero (a flow one way, solar at night or curtailed wind can truly be 0
  for a day);
- a stale forecast: a known covariate's newest vintage was issued more than ``checks.forecast_stale_after`` before
  the issue (the feed stopped; the horizon would be yesterday's values copied);
- a flat-lining forecast: a known covariate's horizon, as issued, repeats one value other than zero for at least
  ``checks.flatline``. Its history is not checked for that: the frame assembles it from vintages issued a lead ahead
  and fills where none was, so a flat stretch there says more about the filling than about the feed (the calendar
  columns are not checked either).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import numpy as np
import pandas as pd

from scalar_ray.core.durations import fixed_duration
from scalar_ray.forecasting.families import FamilySpec
from scalar_ray.forecasting.frames import ModelFrame, publication_lag

__all__ = ["InputProblem", "check_inputs", "fallback_reason"]

ProblemKind = Literal["too_little_history", "too_little_recent_data", "stale", "flatline"]
# A series is flat when it moves by no more than this share of its size (values are stored rounded to 0.01).
_FLAT = 1e-9


@dataclass(frozen=True)
class InputProblem:
    """One input that fails a check: which, which check, and what was found."""

    kind: ProblemKind
    series: str
    detail: str

    def __str__(self) -> str:
        return f"{self.series}: {self.detail}"


def check_inputs(frame: ModelFrame, spec: FamilySpec, issue_time: datetime) -> tuple[InputProblem, ...]:
    """Every problem with the frame's inputs as known at ``issue_time``; empty when the model can be trusted."""
    return (
        *_history(frame, spec),
        *_recent(frame, spec),
        *_stale(frame, spec, issue_time),
        *_stale_forecasts(frame, spec, issue_time),
        *_flatlines(frame, spec),
        *_flat_forecasts(frame, spec),
    )


def fallback_reason(problems: Sequence[InputProblem]) -> str:
    """One line for the stored forecast, the API answer and the logs."""
    return "; ".join(str(problem) for problem in problems)


def _history(frame: ModelFrame, spec: FamilySpec) -> list[InputProblem]:
    needed = fixed_duration(spec.min_history)
    if frame.span >= needed:
        return []
    detail = f"too little history: {_days(frame.span)} of data, the models need {_days(needed)}"
    return [InputProblem("too_little_history", ", ".join(spec.target_ids(frame.zone)), detail)]


def _recent(frame: ModelFrame, spec: FamilySpec) -> list[InputProblem]:
    least = spec.checks.min_recent_share
    return [
        InputProblem(
            "too_little_recent_data",
            series,
            f"too little recent data: {share:.0%} of the last {spec.checks.recent} observed, needs {least:.0%}",
        )
        for series, share in frame.recent_observed.items()
        if share < least
    ]


def _stale(frame: ModelFrame, spec: FamilySpec, issue_time: datetime) -> list[InputProblem]:
    newest_end = frame.last_ts + spec.step
    problems = []
    for series in spec.target_ids(frame.zone):
        allowed = publication_lag(series) + fixed_duration(spec.checks.stale_after)
        age = issue_time - newest_end
        if age > allowed:
            detail = f"stale: the newest actual ends {_hours(age)} before the issue (allowed {_hours(allowed)})"
            problems.append(InputProblem("stale", series, detail))
    return problems


def _stale_forecasts(frame: ModelFrame, spec: FamilySpec, issue_time: datetime) -> list[InputProblem]:
    allowed = fixed_duration(spec.checks.forecast_stale_after)
    problems = []
    for series, newest in frame.known_newest_issue.items():
        if newest is None:
            problems.append(InputProblem("stale", series, "stale: no vintage issued by the issue time"))
        elif issue_time - newest > allowed:
            age = issue_time - newest
            detail = f"stale: the newest forecast was issued {_hours(age)} before the issue (allowed {_hours(allowed)})"
            problems.append(InputProblem("stale", series, detail))
    return problems


def _flat_forecasts(frame: ModelFrame, spec: FamilySpec) -> list[InputProblem]:
    """A forecast feed repeating one value over the horizon (only a horizon as long as the flat-line window)."""
    window = fixed_duration(spec.checks.flatline)
    problems = []
    for series, ahead in frame.known_issued_ahead.items():
        issued = ahead.dropna().to_numpy()
        if len(issued) * spec.step < window or not _flat(issued) or np.all(issued == 0):
            continue
        detail = f"flat-lining: {issued[-1]:g} over the horizon as issued ({_hours(len(issued) * spec.step)})"
        problems.append(InputProblem("flatline", series, detail))
    return problems


def _flatlines(frame: ModelFrame, spec: FamilySpec) -> list[InputProblem]:
    window = fixed_duration(spec.checks.flatline)
    recent = frame.data[frame.data["timestamp"] > pd.Timestamp(frame.last_ts.replace(tzinfo=None)) - window]
    if recent.empty:
        return []
    problems = []
    targets = {series.rsplit("/", 1)[-1]: series for series in spec.target_ids(frame.zone)}
    for item, rows in recent.groupby("item_id"):
        if _flat(rows["target"].to_numpy()):
            problems.append(_flatline(targets.get(str(item), str(item)), rows["target"].iloc[-1], spec))
    first_item = recent[recent["item_id"] == recent["item_id"].iloc[0]]  # covariates repeat on every item
    for column in frame.past_names:
        values = first_item[column].to_numpy()
        if _flat(values) and not np.all(values[~np.isnan(values)] == 0):
            problems.append(_flatline(column, first_item[column].iloc[-1], spec))
    return problems


def _flat(values: np.ndarray) -> bool:
    values = values[~np.isnan(values)]
    if len(values) < 2:  # noqa: PLR2004 - one value cannot move
        return True
    return float(np.ptp(values)) <= _FLAT * max(1.0, float(np.abs(values).max()))


def _flatline(series: str, value: float, spec: FamilySpec) -> InputProblem:
    return InputProblem("flatline", series, f"flat-lining: {value:g} for the last {spec.checks.flatline}")


def _days(span: timedelta) -> str:
    return f"{span / timedelta(days=1):.1f} days"


def _hours(span: timedelta) -> str:
    return f"{span / timedelta(hours=1):.1f} h"
