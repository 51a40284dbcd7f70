"""monitor.toml parsing: defaults, lookup order, and one clear error naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.core.config import load_settings, missing_reference, reference_file
from monitor.core.errors import ConfigError, InputError
from tests.conftest import REPO_ROOT


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={})
    assert settings.data_dir == (tmp_path / "data").resolve()
    assert settings.models == () and settings.source is None
    assert settings.model("anything").task == "binary"


def test_file_values_and_relative_paths(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        'data_dir = "logs-here"\n[thresholds]\nerror_rate = 0.1\n'
        '[[models]]\nid = "m"\ntask = "regression"\nreference = "ref/m.parquet"\n'
        'sensitive_features = ["gender"]\n[models.feature_ranges]\nage = [0, 120]\n',
    )
    settings = load_settings(path, env={})
    assert settings.data_dir == (tmp_path / "logs-here").resolve()
    assert settings.thresholds.error_rate == 0.1
    model = settings.model("m")
    assert model.task == "regression"
    assert model.reference == (tmp_path / "logs-here" / "ref" / "m.parquet").resolve()
    assert model.feature_ranges == {"age": (0.0, 120.0)}
    assert model.sensitive_features == ("gender",)


def test_env_lookup_and_data_dir_override(tmp_path: Path) -> None:
    path = _write(tmp_path, 'data_dir = "a"\n')
    settings = load_settings(
        env={"MONITOR_CONFIG": str(path), "MONITOR_DATA_DIR": str(tmp_path / "b")}
    )
    assert settings.source == path
    assert settings.data_dir == (tmp_path / "b").resolve()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[[models]]\nid = "m"\ntask = "nope"\n', "models[0].task must be one of"),
        ('[[models]]\ntask = "binary"\n', "models[0].id is required"),
        ('datadir = "x"\n', "unknown key datadir"),
        ("[thresholds]\nerror_rate = -1\n", "thresholds.error_rate"),
        ('[thresholds]\nerror_rate = "high"\n', "thresholds.error_rate must be a number"),
        ('[[models]]\nid = "m"\n[models.feature_ranges]\nage = [5, 1]\n', "feature_ranges.age"),
        ('[[models]]\nid = "m"\n[[models]]\nid = "m"\n', "defined twice"),
        ("this is = = not toml", "not valid TOML"),
    ],
)
def test_invalid_config_names_the_key(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(_write(tmp_path, text), env={})
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", env={})
    with pytest.raises(ConfigError, match="MONITOR_CONFIG"):
        load_settings(env={"MONITOR_CONFIG": str(tmp_path / "nope.toml")})


def test_repository_config_describes_the_demo_models(tmp_path: Path) -> None:
    from monitor.demo import demo_config_toml

    repo_root = REPO_ROOT
    shipped = load_settings(repo_root / "monitor.toml", env={})
    generated = load_settings(_write(tmp_path, demo_config_toml("data")), env={})
    assert shipped.data_dir == repo_root / "data"
    assert [m.id for m in shipped.models] == [m.id for m in generated.models]
    for ours, theirs in zip(shipped.models, generated.models, strict=True):
        assert (ours.task, ours.sensitive_features, ours.feature_ranges) == (
            theirs.task,
            theirs.sensitive_features,
            theirs.feature_ranges,
        )


def test_paths_follow_the_file_and_the_data_dir_never_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    path = _write(
        project,
        'data_dir = "data"\n[[models]]\nid = "m"\nreference = "reference/m.parquet"\n'
        f'[[models]]\nid = "fixed"\nreference = "{tmp_path / "ref.parquet"}"\n',
    )
    monkeypatch.chdir(elsewhere)
    from_file = load_settings(path, env={})
    assert from_file.data_dir == project / "data"
    assert from_file.model("m").reference == project / "data" / "reference" / "m.parquet"
    # $MONITOR_DATA_DIR (relative: to the working directory) carries the references along
    moved = load_settings(path, env={"MONITOR_DATA_DIR": "moved"})
    assert moved.data_dir == elsewhere / "moved"
    assert moved.model("m").reference == elsewhere / "moved" / "reference" / "m.parquet"
    # --data-dir beats the environment; an absolute reference stays where it is
    flag = load_settings(path, env={"MONITOR_DATA_DIR": "moved"}, data_dir=tmp_path / "flag")
    assert flag.model("m").reference == tmp_path / "flag" / "reference" / "m.parquet"
    assert flag.model("fixed").reference == tmp_path / "ref.parquet"


def test_a_missing_reference_names_the_setting_the_path_and_the_fix(tmp_path: Path) -> None:
    path = _write(tmp_path, 'data_dir = "."\n[[models]]\nid = "m"\nreference = "ref/m.parquet"\n')
    model = load_settings(path, env={}).model("m")
    with pytest.raises(InputError) as info:
        reference_file(model)
    message = str(info.value)
    assert missing_reference(model) == message
    for fragment in (
        "model 'm'",
        f"reference file {tmp_path.resolve() / 'ref' / 'm.parquet'} does not exist",
        f"models[0].reference = 'ref/m.parquet' in {path.resolve()}",
        f"relative to the data directory {tmp_path.resolve()}",
        "put the file there, or point the setting at it",
    ):
        assert fragment in message, message
    assert "\n" not in message
    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / "m.parquet").write_bytes(b"present")
    assert missing_reference(model) is None
    assert reference_file(model) == tmp_path.resolve() / "ref" / "m.parquet"
    with pytest.raises(InputError, match="no reference dataset"):
        reference_file(load_settings(path, env={}).model("only-logged"))
