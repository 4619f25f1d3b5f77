"""The `segue` command line: addresses checked before any call, --version, --help, exit codes."""

from __future__ import annotations

import importlib.metadata

import pytest

from segue_cli import main
from segue_cli.client import check_addr


@pytest.mark.parametrize(
    "addr",
    [
        "127.0.0.1:50051",
        "localhost:1",
        "orchestrator.segue.svc.cluster.local:50051",
        "[::1]:50051",
        "dns:///orchestrator:50051",
        "dns://8.8.8.8/orchestrator:50051",
        "dns:orchestrator:50051",
        "unix:/run/segue.sock",
        "ipv4:127.0.0.1:1,127.0.0.1:2",
    ],
)
def test_addresses_grpc_can_dial_are_accepted(addr: str) -> None:
    assert check_addr(addr) == addr


@pytest.mark.parametrize(
    ("addr", "says"),
    [
        ("", "not host:port"),
        ("50051", "not host:port"),
        (":50051", "not host:port"),
        ("localhost", "not host:port"),
        ("http://127.0.0.1:50051", "is a URL"),
        ("127.0.0.1:http", "not a number from 1 to 65535"),
        ("127.0.0.1:0", "not a number from 1 to 65535"),
        ("127.0.0.1:70000", "not a number from 1 to 65535"),
        ("::1:50051", "in brackets"),
        ("[nope]:50051", "not an IPv6 address"),
        ("my host:50051", "not a host name"),
        ("unix:", "names no address"),
        ("dns:///:50051", "not host:port"),
    ],
)
def test_invalid_addresses_are_refused_saying_why(addr: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        check_addr(addr)


def test_an_invalid_addr_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main.parse_args(["recommend", "quiet rain", "--user", "u", "--addr", "50051"])
    assert exit_.value.code == main.Exit.USAGE
    assert "argument --addr: '50051' is not host:port" in capsys.readouterr().err


def test_an_invalid_segue_addr_in_the_environment_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SEGUE_ADDR", "http://orchestrator:50051")
    with pytest.raises(SystemExit) as exit_:
        main.parse_args(["prefetch", "--user", "u"])
    assert exit_.value.code == main.Exit.USAGE
    assert "is a URL" in capsys.readouterr().err


def test_addr_and_token_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGUE_ADDR", "dns:///orchestrator:50051")
    monkeypatch.setenv("SPOTIFY_TOKEN", "from-env")
    args = main.parse_args(["recommend", "quiet rain", "--user", "u"])
    assert (args.addr, args.token) == ("dns:///orchestrator:50051", "from-env")
    assert main.parse_args(["prefetch", "--user", "u", "--token", "given"]).token == "given"
    monkeypatch.delenv("SPOTIFY_TOKEN")
    assert main.parse_args(["prefetch", "--user", "u"]).token == main.DEMO_TOKEN


def test_stream_and_no_progress_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main.parse_args(["recommend", "x", "--user", "u", "--stream", "--no-progress"])
    assert exit_.value.code == main.Exit.USAGE
    assert "not allowed with argument" in capsys.readouterr().err


def test_version_comes_from_the_package_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main.parse_args(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"segue {importlib.metadata.version('segue')}"


@pytest.mark.parametrize(
    ("argv", "shown"),
    [
        ([], ["examples:", "segue recommend", "exit codes:", "130 interrupted"]),
        (["demo"], ["example:", "(default: realistic)", "(default: 15)", "(default: rainy sunday"]),
        (["up"], ["example:", "(default: 50051)", "(default: auto)"]),
        (["recommend"], ["examples:", "--json --stream", "(default: 127.0.0.1:50051)", "(default: 20)"]),
        (["prefetch"], ["example:", "(default: 127.0.0.1:50051)"]),
    ],
)
def test_help_shows_examples_and_defaults(
    argv: list[str], shown: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SEGUE_ADDR", raising=False)
    with pytest.raises(SystemExit) as exit_:
        main.parse_args([*argv, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for text in shown:
        assert text in " ".join(out.split()), text
    assert "(default: False)" not in out and "(default: None)" not in out


def test_help_never_prints_the_token_from_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPOTIFY_TOKEN", "secret-spotify-token")
    for command in ("recommend", "prefetch"):
        with pytest.raises(SystemExit):
            main.parse_args([command, "--help"])
        assert "secret-spotify-token" not in capsys.readouterr().out


def test_up_runs_n_replicas_of_each_gateway_and_refuses_a_bad_count(capsys: pytest.CaptureFixture[str]) -> None:
    assert main.parse_args(["up"]).replicas == 1
    args = main.parse_args(["up", "--replicas", "2"])
    assert main._mesh_options(args).replicas == 2
    with pytest.raises(SystemExit) as caught:
        main.parse_args(["up", "--replicas", "0"])
    assert caught.value.code == main.Exit.USAGE
    assert "--replicas must be a whole number from 1 to 8, got '0'" in capsys.readouterr().err
