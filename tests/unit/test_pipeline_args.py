"""The step argument contract: Glue-style parsing, typing, defaults and clear refusals."""

from __future__ import annotations

import os
from datetime import date

import pytest

from segmentation.config import get_settings
from segmentation.pipeline.args import (
    STEPS,
    ArgumentError,
    as_strings,
    parse_argv,
    resolve,
    split_argv,
)


def test_glue_style_argv_is_parsed_and_typed():
    args = parse_argv(
        "cluster",
        [
            "--JOB_NAME",
            "seg",
            "--lake_prefix",
            "p",
            "--snapshot_date=2026-09-30",
            "--k",
            "5",
            "--eps",
            "0.7",
            "--algorithm",
            "DBSCAN",
            "--register_model",
            "false",
        ],
    )
    assert args["JOB_NAME"] == "seg" and args["lake_prefix"] == "p"
    assert args["snapshot_date"] == date(2026, 9, 30)
    assert args["k"] == 5 and args["eps"] == 0.7 and args["algorithm"] == "dbscan"
    assert args["register_model"] is False
    assert args["k_min"] == 2 and args["k_max"] == 10 and args["min_samples"] == 24


def test_defaults_come_from_settings(monkeypatch):
    from segmentation.config import get_settings

    monkeypatch.setenv("SEG_LAKE_PREFIX", "from-env")
    monkeypatch.setenv("SEG_FEATURE_WINDOW_DAYS", "30")
    get_settings.cache_clear()
    try:
        args = resolve("features", {})
    finally:
        get_settings.cache_clear()
    assert args["lake_prefix"] == "from-env" and args["window_days"] == 30
    assert args["run_id"] and isinstance(args["snapshot_date"], date)


def test_dict_with_or_without_dashes_and_resolve_is_idempotent():
    once = resolve(
        "clean", {"--lake_prefix": "x", "input_zones": "raw", "snapshot_date": "2026-01-02"}
    )
    assert once["input_zones"] == ["raw"]
    assert resolve("clean", once) == once
    assert resolve("clean", as_strings(once)) == once


@pytest.mark.parametrize(
    ("step", "given", "message"),
    [
        ("cluster", {"k": "two"}, "--k: got 'two', expected an integer >= 2"),
        # eps bounds are the state machine's (0, 100]: the old spec said >= 0, then > 0
        ("cluster", {"eps": "-1"}, "--eps: got '-1', expected a number > 0 and <= 100"),
        ("cluster", {"eps": "0"}, "--eps: got '0', expected a number > 0 and <= 100"),
        ("cluster", {"eps": "101"}, "--eps: got '101', expected a number > 0 and <= 100"),
        ("cluster", {"k": "51"}, "--k: got '51', expected an integer >= 2 and <= 50"),
        ("cluster", {"min_samples": "10001"}, "expected an integer >= 2 and <= 10000"),
        ("cluster", {"eps": "nan"}, "--eps: got 'nan', expected a number"),
        ("cluster", {"algorithm": "spectral"}, "expected one of kmeans, dbscan"),
        ("features", {"snapshot_date": "30/09/2026"}, "expected a date YYYY-MM-DD"),
        ("features", {"snapshot_date": "2026-02-30"}, "expected a date YYYY-MM-DD"),
        ("features", {"window_days": "0"}, "expected an integer >= 1 and <= 3650"),
        ("features", {"snapshot_date": "1700000000"}, "expected a date YYYY-MM-DD"),
        ("clean", {"input_zones": "raw,cold"}, "comma-separated list of raw, hot"),
        (
            "clean",
            {"colour": "red"},
            "unknown argument(s) --colour; expected some of --lake_prefix",
        ),
        ("cluster", {"k_min": "6", "k_max": "3"}, "--k_min (6) must not exceed --k_max (3)"),
        ("nope", {}, "unknown step 'nope'; expected one of clean, features, cluster"),
    ],
)
def test_bad_arguments_say_what_was_expected(step, given, message):
    with pytest.raises(ArgumentError) as err:
        resolve(step, given)
    assert message in str(err.value)


def test_split_argv_refuses_positional_values():
    assert split_argv(["--a", "1", "--flag", "--b=2"]) == {"a": "1", "flag": "true", "b": "2"}
    with pytest.raises(ArgumentError, match="expected --name value pairs"):
        split_argv(["clean"])


def test_platform_arguments_are_accepted():
    args = resolve("features", {"--JOB_NAME": "j", "--job-bookmark-option": "job-bookmark-disable"})
    assert args["JOB_NAME"] == "j"
    assert set(STEPS["features"]) and "job-bookmark-option" not in args


def test_step_command_refuses_bad_arguments_before_starting_spark(capsys):
    from segmentation_local.cli import main

    assert main(["step", "cluster", "--k", "1"]) == 2
    assert "--k: got '1', expected an integer >= 2" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["step", "--help"])
    assert "--min_samples" in capsys.readouterr().out


def test_glue_setting_arguments_become_the_environment() -> None:
    """Glue has no environment: Terraform passes the Spark steps' settings as --SEG_* job
    arguments, and the clean step's lower bound must then be the configured one."""
    from segmentation.contract import timestamp_min
    from segmentation.pipeline.entry import settings_from_argv

    names = ("SEG_TIMESTAMP_MIN", "SEG_LEDGER_TABLE")
    before = {name: os.environ.pop(name, None) for name in names}
    get_settings.cache_clear()
    rest = settings_from_argv(
        ["--lake_prefix", "p", "--SEG_TIMESTAMP_MIN", "1970-01-02", "--SEG_LEDGER_TABLE=led"]
    )
    try:
        assert rest == ["--lake_prefix", "p"]
        assert f"{timestamp_min():%Y-%m-%d}" == "1970-01-02"
        assert get_settings().ledger_table == "led"
        assert settings_from_argv(["--run_id", "r"]) == ["--run_id", "r"]
        with pytest.raises(ArgumentError, match="SEG_TIMESTAMP_MIN: expected a value"):
            settings_from_argv(["--SEG_TIMESTAMP_MIN", "--run_id", "r"])
    finally:
        for name, value in before.items():  # what the call set must not leak into other tests
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value
        get_settings.cache_clear()
