"""``segmentation generate``: write the synthetic VoD data set (events, payments, users...),
or with ``--continue`` the next batch of one (same users and catalog, more days)."""

from __future__ import annotations

import argparse
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI imports the generator only when the command runs
    from segmentation_local.synthetic.params import ContinueParams, GenerateParams
    from segmentation_local.synthetic.shift import Shift

#: Flags that describe a first window; a continuation takes them from its parent.
ROOT_ONLY = ("users", "seed", "end_date", "catalog_size")
_ROOT_DEFAULTS = {"days": 90, "seed": 42, "catalog_size": 3000}
_CONTINUE_DAYS = 7


def add_dataset_arguments(p: argparse.ArgumentParser, users: int, out: str | None) -> None:
    """Size, seed, window and defect-rate flags; unset ones stay None so a continuation can
    tell a flag given from a default (and refuse the ones that do not apply to it)."""
    from segmentation_local.synthetic.params import DEFAULT_END_DATE, DefectRates

    p.set_defaults(default_users=users)
    p.add_argument("--users", type=int, help=f"number of users (default {users})")
    p.add_argument(
        "--days",
        type=int,
        help=f"window length in days (default 90; with --continue {_CONTINUE_DAYS})",
    )
    p.add_argument("--seed", type=int, help="random seed (default 42)")
    p.add_argument(
        "--end-date",
        type=date.fromisoformat,
        help=f"last day of the window, UTC (default {DEFAULT_END_DATE})",
    )
    p.add_argument("--catalog-size", type=int, help="catalog items (default 3000)")
    p.add_argument(
        "--out",
        required=out is None,
        default=out,
        help="output directory" + (f" (default {out})" if out else ""),
    )
    p.add_argument("--no-defects", action="store_true", help="set every defect rate to 0")
    for name, field in DefectRates.model_fields.items():
        p.add_argument(
            f"--{name.replace('_', '-')}",
            type=float,
            default=None,
            metavar="RATE",
            help=f"{field.description} (default {field.default}; with --continue the parent's)",
        )


def add_continue_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of a continuation (the next batch of an existing data set)."""
    from segmentation_local.synthetic.params import CrossBatchRates

    p.add_argument(
        "--continue",
        dest="parent",
        metavar="DATASET",
        help="write the next --days days of this data set (same seed, users, personas, catalog)",
    )
    p.add_argument(
        "--new-users", type=int, help="with --continue: users who join during the batch (0)"
    )
    p.add_argument(
        "--shift",
        metavar="JSON|FILE",
        help="with --continue: a shift, inline JSON or a JSON file, e.g. "
        '\'{"persona_share": {"binge_watcher": 1.5}, '
        '"behaviour": {"binge_watcher": {"watch_scale": 0.7}}}\' (docs/data.md)',
    )
    for name, field in CrossBatchRates.model_fields.items():
        p.add_argument(
            f"--{name.replace('_', '-')}",
            type=float,
            default=None,
            metavar="RATE",
            help=f"with --continue: {field.description} (default 0)",
        )
    p.add_argument(
        "--campaign",
        metavar="ID",
        help="with --continue: play this campaign (POST /campaigns) on the batch: treatment-arm "
        "members of a key with an --effect convert more (the truth goes to summary.json)",
    )
    p.add_argument(
        "--effect",
        action="append",
        metavar="KEY=POINTS",
        help="with --campaign: true conversion uplift of a target key, e.g. S1=0.04 (+4 "
        "points); repeat per key; a target key without one has no effect",
    )
    p.add_argument(
        "--campaign-seed", type=int, default=0, help="with --campaign: seed of its draws (0)"
    )


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _defect_overrides(args: argparse.Namespace) -> dict[str, float]:
    from segmentation_local.synthetic.params import DefectRates

    return {n: getattr(args, n) for n in DefectRates.model_fields if getattr(args, n) is not None}


def params_from_args(args: argparse.Namespace) -> GenerateParams:
    """Validated :class:`GenerateParams` from the parsed flags (pydantic names a bad value)."""
    from segmentation_local.synthetic.params import DEFAULT_END_DATE, DefectRates, GenerateParams

    base = DefectRates.none() if args.no_defects else DefectRates()
    value = {k: getattr(args, k) for k in _ROOT_DEFAULTS}
    return GenerateParams(
        users=args.default_users if args.users is None else args.users,
        **{k: _ROOT_DEFAULTS[k] if v is None else v for k, v in value.items()},
        end_date=args.end_date or DEFAULT_END_DATE,
        defects=DefectRates(**(base.model_dump() | _defect_overrides(args))),
    )


def continue_params_from_args(args: argparse.Namespace) -> ContinueParams:
    """Validated :class:`ContinueParams`; flags of a first window are refused by name."""
    from pathlib import Path

    from segmentation_local.synthetic.lineage import read_manifest
    from segmentation_local.synthetic.params import ContinueParams, CrossBatchRates, DefectRates

    given = [_flag(k) for k in ROOT_ONLY if getattr(args, k) is not None]
    if given:
        raise ValueError(
            f"{', '.join(given)}: not with --continue (a continuation keeps its parent's "
            "seed, users, window calendar and catalog; add users with --new-users)"
        )
    overrides = _defect_overrides(args)
    defects = None  # the parent's rates
    if args.no_defects or overrides:
        base = DefectRates.none() if args.no_defects else None
        base = base or read_manifest(Path(args.parent)).lineage.defects()
        defects = DefectRates(**(base.model_dump() | overrides))
    cross = {
        n: getattr(args, n) for n in CrossBatchRates.model_fields if getattr(args, n) is not None
    }
    return ContinueParams(
        days=_CONTINUE_DAYS if args.days is None else args.days,
        new_users=args.new_users or 0,
        shift=read_shift(args.shift),
        defects=defects,
        cross_batch=CrossBatchRates(**cross),
    )


def read_shift(text: str | None) -> Shift:
    """The shift of ``--shift``: inline JSON (starts with ``{``) or the path of a JSON file."""
    import json
    from pathlib import Path

    from pydantic import ValidationError

    from segmentation_local.synthetic.shift import Shift

    if text is None:
        return Shift()
    source = text if text.lstrip().startswith("{") else Path(text).read_text()
    try:
        return Shift.model_validate(json.loads(source))
    except json.JSONDecodeError as exc:
        raise ValueError(f"--shift: not valid JSON ({exc})") from None
    except ValidationError as exc:
        parts = [f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ValueError("--shift: " + "; ".join(parts)) from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="write the synthetic VoD data set (Parquet + CSV, labels, summary.json), "
        "or with --continue its next batch",
        description="Generate users with latent personas, their sessions and events over a "
        "window, inject data-quality defects, and write everything to --out. With --continue, "
        "write the next --days days of an existing data set instead (see docs/data.md).",
    )
    add_dataset_arguments(p, users=50_000, out=None)
    add_continue_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pydantic import ValidationError

    from segmentation_local.synthetic.params import CrossBatchRates

    continuing = args.parent is not None
    if not continuing:
        given = [
            _flag(k)
            for k in ("new_users", "shift", "campaign", *CrossBatchRates.model_fields)
            if getattr(args, k) is not None
        ]
        if given:
            raise ValueError(f"{', '.join(given)}: only with --continue DATASET")
    try:
        params = continue_params_from_args(args) if continuing else params_from_args(args)
    except ValidationError as exc:
        raise ValueError(_explain(exc)) from None
    from segmentation_local.synthetic.report import format_summary

    if args.effect and not args.campaign:
        raise ValueError("--effect: only with --campaign ID")
    if continuing:
        from segmentation_local.synthetic.service import continue_to

        then = campaign_player(args.campaign, args.effect or [], args.campaign_seed)
        summary, seconds = continue_to(Path(args.parent), params, Path(args.out), then)
    else:
        from segmentation_local.synthetic.service import generate_to

        summary, seconds = generate_to(params, Path(args.out))
    print(format_summary(summary, seconds))
    print(f"wrote {args.out}/ (summary.json lists the files)")
    return 0


def campaign_player(campaign_id: str | None, effects: list[str], seed: int) -> Any:
    """What plays ``campaign_id`` on a generated batch (None without one): the campaign, its
    frozen members and their arms are read from the local AWS (the campaigns table, the lake's
    segment map, both keys), so the arms are the ones the API and the uplift report give."""
    if campaign_id is None:
        return None
    from segmentation.campaign.arms import load_arm_key
    from segmentation.campaign.outcomes import members
    from segmentation.campaign.store import CampaignStore, UnknownCampaign
    from segmentation.config import get_settings
    from segmentation_local.synthetic.campaign import CampaignPlan, parse_effects

    settings = get_settings()
    try:
        campaign = CampaignStore(settings).get(campaign_id)
    except UnknownCampaign:
        raise ValueError(f"--campaign: no campaign {campaign_id!r} (POST /campaigns)") from None
    wanted = parse_effects(effects)
    stray = sorted(set(wanted) - set(campaign.segment_keys))
    if stray:
        raise ValueError(
            f"--effect {stray[0]}: not a target of {campaign_id} (its targets: "
            f"{', '.join(campaign.segment_keys)})"
        )
    plan = CampaignPlan(
        campaign_id=campaign.campaign_id,
        start=campaign.start,
        end=campaign.end,
        effects=wanted,
        seed=seed,
    )
    who = members(settings, campaign, load_arm_key(settings))

    def play(ds: Any) -> Any:
        from segmentation.anonymise import load_anonymiser
        from segmentation_local.synthetic.campaign import apply_campaign

        raw = ds.users.column("user_id").to_pylist()
        by_anon = dict(zip(load_anonymiser(settings).anon_many(raw), raw, strict=True))
        found = who[who["user_anon_id"].isin(by_anon)]
        assignment = found.assign(user_id=found["user_anon_id"].map(by_anon))
        played, _truth = apply_campaign(ds, assignment[["user_id", "segment_key", "arm"]], plan)
        return played

    return play


def _explain(exc: Exception) -> str:
    errors = getattr(exc, "errors", lambda: [])()
    parts = [f"--{'-'.join(str(x) for x in e['loc'][-1:]).replace('_', '-')}: {e['msg']}"
             for e in errors]  # fmt: skip
    return "invalid generation parameters: " + "; ".join(parts or [str(exc)])
