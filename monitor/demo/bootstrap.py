"""First start: fill an empty data directory with the demo, all at once or not at all."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from monitor.core import logfiles
from monitor.core.schema import LOGS_DIR
from monitor.demo.manifest import MANIFEST_NAME as DEMO_MANIFEST


def has_logs(data_dir: Path) -> bool:
    return bool(logfiles.list_log_files(data_dir, "predictions"))


def is_demo(data_dir: Path) -> bool:
    return (data_dir / DEMO_MANIFEST).is_file()


def ensure_demo_data(data_dir: Path) -> bool:
    """Generate the demo into `data_dir` if it holds no prediction logs. Returns True if it did.

    The demo is generated in a temporary folder beside `data_dir` and moved into place
    entry by entry, the manifest last: a start that is killed half-way leaves either no
    logs (the next start tries again) or a complete demo.
    """
    if has_logs(data_dir):
        return False
    from monitor.demo import generate_demo

    data_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".demo-", dir=data_dir))
    try:
        generate_demo(staging)
        names = sorted(p.name for p in staging.iterdir())
        ordered = [n for n in names if n not in (LOGS_DIR, DEMO_MANIFEST)] + [
            LOGS_DIR,
            DEMO_MANIFEST,
        ]
        for name in ordered:
            source, target = staging / name, data_dir / name
            if not source.exists():
                continue
            if name == LOGS_DIR and target.exists():
                # Only non-prediction leftovers can be here (has_logs was False): keep them aside.
                os.replace(target, data_dir / f".logs-before-demo-{os.getpid()}")
            elif target.exists():
                continue  # never overwrite what the user has (a config, a reference set)
            os.replace(source, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return True
