"""A job as data (``--request FILE|-``): its options are checked by the command's own parser, typed flags win,
and a bad request ends like any failed job (an ``error`` event with ``expected``)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from core.cli.parser import build_parser
from core.cli.train import CLASS_OPTIONS, TILE_OPTIONS, train_config, train_options
from core.errors import InvalidInputError, UsageError
from core.jobs.requests import expand_request
from core.training.config import TrainConfig, describe

pytestmark = pytest.mark.quick  # make test-fast


def parsed(argv: list[str], request: dict | str | None = None, tmp_path: Path | None = None):  # type: ignore[no-untyped-def]
    """``argv`` parsed as ``main`` does, with ``request`` given through stdin (``--request -``)."""
    parser = build_parser()
    text = request if isinstance(request, str) else json.dumps(request)
    return parser.parse_args(expand_request(parser, argv, stdin=io.StringIO(text + "\n")))


def test_a_request_file_sets_the_options_like_flags(tmp_path) -> None:
    request = tmp_path / "job.json"
    request.write_text(
        json.dumps(
            {
                "raster": "my ortho.tif",
                "checkpoint": "best.pt",
                "out": "m.tif",
                "threshold": 0.3,
                "fill_holes": True,
                "label": "-roof-",
                "aoi": None,
            }
        )
    )
    parser = build_parser()
    args = parser.parse_args(expand_request(parser, ["predict", "--request", str(request)]))
    assert args.raster == ["my ortho.tif"]  # repeatable: one raster, or a region of several
    assert args.threshold == 0.3
    assert args.fill_holes is True
    assert args.label == "-roof-"  # a value that looks like a flag stays a value
    assert args.aoi is None  # null: the default


def test_flags_on_the_command_line_win_over_the_request() -> None:
    args = parsed(["predict", "--request", "-", "--threshold", "0.7"],
                  {"raster": "a.tif", "checkpoint": "b.pt", "out": "m.tif", "threshold": 0.3})  # fmt: skip
    assert args.threshold == 0.7


def test_positionals_and_repeatable_options() -> None:
    assert parsed(["weights", "download", "--request", "-"], {"name": "sam2.1_hiera_t"}).name == "sam2.1_hiera_t"
    args = parsed(["segment", "--request", "-"],
                  {"raster": "a.tif", "checkpoint": "b.pt", "out": "s.gpkg", "point": [[1.5, 2], [3, 4, 0]],
                   "box": [0, 0, 10, 10]})  # fmt: skip
    assert args.point == [[1.5, 2.0], [3.0, 4.0, 0.0]]
    assert args.box == [0.0, 0.0, 10.0, 10.0]


def test_every_training_option_can_be_requested() -> None:
    """The train command takes every TrainConfig field (class options through their own flags)."""
    described = describe()
    changed: dict[str, object] = {}
    for name in (*TILE_OPTIONS, *train_options()):
        default = described[name]["default"]
        if "choices" in described[name]:
            changed[name] = next(c for c in described[name]["choices"] if c != default)
        elif isinstance(default, float):
            changed[name] = default / 2 + 0.01
        elif isinstance(default, str):
            changed[name] = "cpu" if default != "cpu" else "auto"
        else:
            changed[name] = {"tile_size": 512, "image_size": 256}.get(name, (default or 0) + 1)
    changed |= {"class_field": "kind", "classes": [1, 3], "class_zero": True, "bands": [4, 1, 2]}
    # multi-class (which needs auto mode, so the mode is left at its default here), named by a field and a mapping
    changed |= {"multiclass": True, "mode": "auto", "name_field": "kind_name", "class_names": ["1=house", "3=tree"]}
    assert set(changed) == set(described)  # nothing of TrainConfig is left out
    args = parsed(["train", "--request", "-"], {"raster": "a.tif", "labels": "l.gpkg", "out": "run", **changed})
    config = train_config(args)
    expected = TrainConfig().replace(
        **{**changed, "classes": (1, 3), "bands": (4, 1, 2), "class_names": ("1=house", "3=tree")}
    )
    assert config == expected
    assert set(CLASS_OPTIONS) <= set(changed)


@pytest.mark.parametrize(
    ("request_text", "message"),
    [
        ('{"raster": "a.tif", "bogus": 1}', "unknown option(s) bogus; known: aoi, bands, batch_size"),
        ('{"threshold": "high"}', "argument --threshold: invalid float value: 'high'"),
        ('{"fill_holes": "yes"}', "fill_holes is true or false"),
        ('{"raster": "a.tif"', "is not JSON"),
        ('["a.tif"]', "must be one JSON object"),
        ("", "is not JSON"),
    ],
)
def test_a_bad_request_says_what_is_wrong(request_text, message) -> None:
    with pytest.raises((UsageError, InvalidInputError), match=message.replace("(", r"\(").replace(")", r"\)")):
        parsed(["predict", "--request", "-", "--checkpoint", "b.pt", "--out", "m.tif"], request_text)


def test_a_request_needs_a_command_and_a_source(tmp_path) -> None:
    with pytest.raises(InvalidInputError, match="needs a JSON file or -"):
        parsed(["predict", "--request"])
    with pytest.raises(InvalidInputError, match="comes after a command"):
        parsed(["--request", "-"], {})
    with pytest.raises(InvalidInputError, match="cannot read the request file"):
        parsed(["predict", "--request", str(tmp_path / "none.json")])


def test_a_bad_request_is_the_jobs_error_event(core_cli, tmp_path) -> None:
    """Through the real command line: exit 2 and one ``error`` event with ``expected``, nothing written."""
    request = tmp_path / "job.json"
    request.write_text(json.dumps({"raster": "a.tif", "checkpoint": "b.pt", "out": str(tmp_path / "m.tif"),
                                   "mode": "everything"}))  # fmt: skip
    done = core_cli("predict", "--request", request, "--events", "-")
    assert done.returncode == 2
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert [e["event"] for e in events] == ["error"]
    assert events[0]["expected"] is True
    assert "argument --mode: invalid choice: 'everything'" in events[0]["message"]
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.json"]


def test_a_missing_required_option_is_an_error_event_too(core_cli) -> None:
    done = core_cli("predict", "--raster", "a.tif", "--events", "-")
    assert done.returncode == 2
    event = json.loads(done.stdout.splitlines()[-1])
    assert event["event"] == "error"
    assert event["expected"] is True
    assert "the following arguments are required: --checkpoint, --out" in event["message"]
