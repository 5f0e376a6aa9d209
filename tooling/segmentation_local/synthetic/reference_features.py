"""Reference computation of the 12 per-user features, in plain pandas (the Spark job's oracle).

The Spark feature job must produce the same numbers as :func:`compute_features` on the same
(cleaned) events; its tests compare the two. Definitions, exactly (also in docs/data.md):

Input: events with ``user_id``, ``timestamp`` (UTC), ``event_type``, ``amount``, ``session_id``,
``content_id``; a catalog with ``content_id`` and ``genre``; the window end ``snapshot`` (an
aware UTC instant, exclusive) and its length ``window_days``. Only events with
``snapshot - window_days <= timestamp < snapshot`` count. Every remaining event must have a
``session_id`` (cleaning sessionises events that lack one); a session is the pair
(user_id, session_id). A user appears in the output iff they have at least one event in the
window. All outputs are float64 and never NaN.

RFM
  recency_days          (snapshot - last event timestamp) in seconds / 86400
  frequency             number of sessions
  monetary              sum of ``amount`` over purchase and subscription events (null amount = 0)
Behavioural
  avg_session_minutes   mean over the user's sessions of (last - first event timestamp of the
                        session, within the window) in seconds / 60; one-event sessions count 0
  completion_rate       #complete / (#complete + #stop); 0 when the user has neither
  unique_genres         number of distinct genres of the content of the user's play events
                        (content_id joined to the catalog; null or unknown content ignored)
  searches_per_session  #search / frequency
  banner_ctr            #banner_click / #banner_impression; 0 when no impression
Temporal (shares of the user's events in the window, by UTC clock)
  morning_share         events with hour in 06..11
  evening_share         events with hour in 18..23
  weekend_share         events on Saturday or Sunday
  active_days           number of distinct UTC calendar dates with an event
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

FEATURE_COLUMNS: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary",
    "avg_session_minutes",
    "completion_rate",
    "unique_genres",
    "searches_per_session",
    "banner_ctr",
    "morning_share",
    "evening_share",
    "weekend_share",
    "active_days",
)
#: The denominators of the shares, written beside the features (see the features step).
COUNT_COLUMNS: tuple[str, ...] = ("n_events", "n_ended_plays", "n_impressions")
MORNING_HOURS = range(6, 12)
EVENING_HOURS = range(18, 24)
MONEY_TYPES = ("purchase", "subscription")


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den with 0 where den is 0: a user without the denominator has a rate of 0."""
    num = num.astype(np.float64)
    den = den.astype(np.float64)
    return (num / den.where(den > 0, 1.0)).where(den > 0, 0.0)


def compute_features(
    events: pd.DataFrame,
    catalog: pd.DataFrame,
    snapshot: datetime,
    window_days: int,
) -> pd.DataFrame:
    """The 12 features per user (index ``user_id``, sorted), by the definitions above, then the
    :data:`COUNT_COLUMNS`."""
    if snapshot.tzinfo is None:
        raise ValueError("snapshot must be an aware UTC datetime, e.g. 2026-10-01T00:00:00Z")
    end = pd.Timestamp(snapshot).tz_convert("UTC")
    start = end - timedelta(days=window_days)
    ts = pd.to_datetime(events["timestamp"], utc=True)
    keep = (ts >= start) & (ts < end)
    ev = events.loc[keep, ["user_id", "event_type", "amount", "session_id", "content_id"]].copy()
    ev["ts"] = ts[keep]
    if ev["session_id"].isna().any():
        raise ValueError(
            "every event in the window needs a session_id; sessionise events before computing "
            "features"
        )
    user = ev["user_id"]
    etype = ev["event_type"]
    g = ev.groupby("user_id", sort=True)
    out = pd.DataFrame(index=g.size().index)
    out.index.name = "user_id"

    out["recency_days"] = (end - g["ts"].max()).dt.total_seconds() / 86400.0
    sessions = ev.groupby(["user_id", "session_id"], sort=False)["ts"].agg(["min", "max"])
    length_min = (sessions["max"] - sessions["min"]).dt.total_seconds() / 60.0
    per_user_sessions = length_min.groupby(level="user_id")
    out["frequency"] = per_user_sessions.size().astype(np.float64)
    amount = ev["amount"].where(etype.isin(MONEY_TYPES), 0.0).fillna(0.0).astype(np.float64)
    out["monetary"] = amount.groupby(user).sum()
    out["avg_session_minutes"] = per_user_sessions.mean()

    counts = pd.crosstab(user, etype)
    for t in ("complete", "stop", "search", "banner_click", "banner_impression"):
        if t not in counts:
            counts[t] = 0
    counts = counts.reindex(out.index, fill_value=0)
    out["completion_rate"] = _ratio(counts["complete"], counts["complete"] + counts["stop"])
    genres = catalog.drop_duplicates("content_id").set_index("content_id")["genre"]
    plays = ev.loc[etype == "play", ["user_id", "content_id"]]
    play_genre = plays["content_id"].map(genres)
    out["unique_genres"] = (
        play_genre.groupby(plays["user_id"]).nunique().reindex(out.index, fill_value=0)
    ).astype(np.float64)
    out["searches_per_session"] = _ratio(counts["search"], out["frequency"])
    out["banner_ctr"] = _ratio(counts["banner_click"], counts["banner_impression"])

    hour = ev["ts"].dt.hour
    n = g.size().astype(np.float64)
    out["morning_share"] = hour.isin(MORNING_HOURS).groupby(user).sum() / n
    out["evening_share"] = hour.isin(EVENING_HOURS).groupby(user).sum() / n
    out["weekend_share"] = (ev["ts"].dt.dayofweek >= 5).groupby(user).sum() / n
    out["active_days"] = ev["ts"].dt.floor("D").groupby(user).nunique().astype(np.float64)

    out["n_events"] = n
    out["n_ended_plays"] = (counts["complete"] + counts["stop"]).astype(np.float64)
    out["n_impressions"] = counts["banner_impression"].astype(np.float64)
    out = out[[*FEATURE_COLUMNS, *COUNT_COLUMNS]].astype(np.float64)
    if out.isna().any().any():  # a definition above was violated: fail loudly, never leak NaN
        raise AssertionError(f"NaN in features: {out.columns[out.isna().any()].tolist()}")
    return out
