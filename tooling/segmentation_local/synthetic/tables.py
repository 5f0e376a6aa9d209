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


#: Ids formatted per chunk of this many: Arrow's padding kernel reserves four bytes per character
#: (UTF-8's widest), so 50M ten-digit ids in one call overflow a 2 GiB string array (10x paper
#: scale did).
ID_CHUNK_ROWS = 4_000_000


def format_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array | pa.ChunkedArray:
    """``prefix`` + zero-padded number, for millions of ids in a few Arrow kernel calls (one
    array up to :data:`ID_CHUNK_ROWS` ids, a chunked array of such arrays beyond)."""
    chunk_rows = ID_CHUNK_ROWS

    def one(part: np.ndarray) -> pa.Array:
        digits = pc.utf8_lpad(pc.cast(pa.array(part, pa.int64()), pa.string()), width, "0")
        return pc.binary_join_element_wise(prefix, digits, "")

    if len(numbers) <= chunk_rows:
        return one(numbers)
    return pa.chunked_array(
        [one(numbers[i : i + chunk_rows]) for i in range(0, len(numbers), chunk_rows)],
        pa.string(),
    )


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


def transactions_table(
    ev: EventArrays, users: pa.Array, user_payment: np.ndarray, first_id: int = 1
) -> pa.Table:
    """Payments (the billing system's record) of the clean purchase and subscription events.

    ``first_id`` lets a continuation number its payments after its parent's.
    """
    money = np.flatnonzero(np.isin(ev.etype, (TYPE["purchase"], TYPE["subscription"])))
    kind = np.where(ev.etype[money] == TYPE["purchase"], 0, 1)
    return pa.table(
        {
            "transaction_id": format_ids("t-", np.arange(first_id, first_id + money.size), 9),
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


def _number_of(ids: pa.ChunkedArray, offset: int) -> np.ndarray:
    """``x-000123`` -> 123 - offset; null -> -1 (the inverse of ``format_ids``)."""
    n = pc.cast(pc.utf8_slice_codeunits(ids, 2), pa.int64())
    return pc.fill_null(pc.subtract(n, offset), -1).to_numpy().astype(np.int64)


def _code_of(values: pa.ChunkedArray, names: tuple[str, ...]) -> np.ndarray:
    return pc.fill_null(pc.index_in(values, value_set=pa.array(names)), -1).to_numpy()


def event_arrays(table: pa.Table) -> EventArrays:
    """Events read back from an events table (a parent batch's), as the generator's codes."""
    seconds = pc.divide(pc.cast(table.column("timestamp"), pa.int64()), 1_000_000)
    return EventArrays(
        event_id=_number_of(table.column("event_id"), 0),
        user=_number_of(table.column("user_id"), 1),
        ts=seconds.to_numpy().astype(np.int64),
        etype=_code_of(table.column("event_type"), EVENT_TYPES).astype(np.int8),
        amount=pc.fill_null(table.column("amount"), np.nan).to_numpy(),
        session=_number_of(table.column("session_id"), 1),
        content=_number_of(table.column("content_id"), 1),
        device=_code_of(table.column("device"), DEVICES).astype(np.int8),
        watch=pc.fill_null(table.column("watch_seconds"), np.nan).to_numpy(),
        country=_code_of(table.column("country"), COUNTRIES).astype(np.int8),
    )


def user_codes(ids: pa.ChunkedArray) -> np.ndarray:
    """User index of each ``u-000123`` id."""
    return _number_of(ids, 1)
