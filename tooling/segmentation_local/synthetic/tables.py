"""Arrow tables of the data set: events, transactions, users, catalog and labels.

Ids are formatted with Arrow compute kernels (no Python string per event), missing values are
real nulls, and the column order and types are fixed here so the files are the same every run.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmentation.contract import DEVICES, EVENT_TYPES, STORED_COLUMNS, event_arrow_schema
from segmentation_local.synthetic.catalog import GENRES, Catalog
from segmentation_local.synthetic.events import TYPE, EventArrays
from segmentation_local.synthetic.personas import DEVICE_CHOICES, PERSONA_NAMES, PLANS
from segmentation_local.synthetic.users import COUNTRIES, PAYMENT_METHODS, Users

#: Column order of the events files: the contract's, event_id first.
EVENT_COLUMNS: tuple[str, ...] = STORED_COLUMNS
assert DEVICES[: len(DEVICE_CHOICES)] == DEVICE_CHOICES

EVENT_SCHEMA = event_arrow_schema(EVENT_COLUMNS)


def format_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded number, for millions of ids in a few Arrow kernel calls."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def user_ids(n: int) -> pa.Array:
    return format_ids("u-", np.arange(1, n + 1), 6)


def _lookup(values: pa.Array, codes: np.ndarray) -> pa.Array:
    """``values[codes]`` with code -1 meaning null."""
    return pc.take(values, pa.array(codes.astype(np.int64), mask=codes < 0))


def _number(x: np.ndarray) -> pa.Array:
    return pa.array(x, pa.float64(), mask=np.isnan(x))


def _timestamps(seconds: np.ndarray) -> pa.Array:
    return pa.array(seconds.astype(np.int64) * 1_000_000, pa.timestamp("us", tz="UTC"))


def events_table(ev: EventArrays, users: pa.Array, catalog: Catalog) -> pa.Table:
    """Events in the contract's columns; ``users`` is the user_id array (index = user code)."""
    content_ids = pa.array(catalog.content_id, pa.string())
    return pa.Table.from_arrays(
        [
            format_ids("e-", ev.event_id, 10),
            pc.take(users, pa.array(ev.user, pa.int64())),
            _timestamps(ev.ts),
            pc.take(pa.array(EVENT_TYPES), pa.array(ev.etype.astype(np.int64))),
            _number(ev.amount),
            pc.if_else(
                pa.array(ev.session < 0),
                pa.nulls(len(ev), pa.string()),
                format_ids("s-", ev.session + 1, 8),
            ),
            _lookup(content_ids, ev.content),
            _lookup(pa.array(DEVICES), ev.device.astype(np.int64)),
            _number(ev.watch),
            _lookup(pa.array(COUNTRIES), ev.country.astype(np.int64)),
        ],
        schema=EVENT_SCHEMA,
    )


def transactions_table(ev: EventArrays, users: pa.Array, user_payment: np.ndarray) -> pa.Table:
    """Payments (the billing system's record) of the clean purchase and subscription events."""
    money = np.flatnonzero(np.isin(ev.etype, (TYPE["purchase"], TYPE["subscription"])))
    kind = np.where(ev.etype[money] == TYPE["purchase"], 0, 1)
    return pa.table(
        {
            "transaction_id": format_ids("t-", np.arange(1, money.size + 1), 9),
            "event_id": format_ids("e-", ev.event_id[money], 10),
            "user_id": pc.take(users, pa.array(ev.user[money], pa.int64())),
            "timestamp": _timestamps(ev.ts[money]),
            "amount": pa.array(ev.amount[money], pa.float64()),
            "currency": pa.array(np.full(money.size, "EUR", dtype=object), pa.string()),
            "kind": pc.take(pa.array(["purchase", "subscription"]), pa.array(kind)),
            "method": pc.take(
                pa.array(PAYMENT_METHODS), pa.array(user_payment[ev.user[money]].astype(np.int64))
            ),
        }
    )


def users_table(u: Users, ids: pa.Array, window_start: date) -> pa.Table:
    signup = np.array([window_start - timedelta(days=1)], dtype="datetime64[D]")[0]
    return pa.table(
        {
            "user_id": ids,
            "signup_date": pa.array(signup - (u.signup_day - 1).astype("timedelta64[D]")),
            "country": pc.take(pa.array(COUNTRIES), pa.array(u.country.astype(np.int64))),
            "device": pc.take(pa.array(DEVICE_CHOICES), pa.array(u.device.astype(np.int64))),
            "plan": pc.take(pa.array(PLANS), pa.array(u.plan.astype(np.int64))),
        }
    )


def catalog_table(c: Catalog) -> pa.Table:
    return pa.table(
        {
            "content_id": pa.array(c.content_id, pa.string()),
            "title": pa.array(c.title, pa.string()),
            "genre": pc.take(pa.array(GENRES), pa.array(c.genre.astype(np.int64))),
            "duration_minutes": pa.array(c.duration_minutes, pa.int32()),
            "release_year": pa.array(c.release_year, pa.int32()),
        }
    )


def labels_table(u: Users, ids: pa.Array) -> pa.Table:
    return pa.table(
        {
            "user_id": ids,
            "persona": pc.take(pa.array(PERSONA_NAMES), pa.array(u.persona.astype(np.int64))),
        }
    )
