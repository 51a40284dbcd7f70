"""Demo data: a month of logs for two models with known, injected problems.

``generate_demo(data_dir)`` writes prediction, feedback and system logs (older days as
compacted Parquet, the last days as JSONL with a few malformed lines), reference data
per model, a monitor.toml for the two models and demo_manifest.json, which records
exactly what was injected and when. See docs/demo-data.md.
"""

from monitor.demo.generate import DEFAULT_END, generate_demo
from monitor.demo.manifest import (
    DemoManifest,
    InjectedProblem,
    InvalidLine,
    ModelSummary,
    VersionPeriod,
    WrittenFile,
)
from monitor.demo.spec import demo_config_toml

__all__ = [
    "DEFAULT_END",
    "DemoManifest",
    "InjectedProblem",
    "InvalidLine",
    "ModelSummary",
    "VersionPeriod",
    "WrittenFile",
    "demo_config_toml",
    "generate_demo",
]
