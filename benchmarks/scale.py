"""Benchmark 3's worker processes: build a library database, load it, time a block; import files.

Each size runs in fresh processes so that memory figures belong to that size alone:
- ``build``: make the synthetic library in memory and store it with
  ``Repository.import_library`` (no files, no compile: that path is timed by ``import-files``);
- ``measure``: open an ``Engine`` on the database, load the library (``engine.library()``),
  answer a first block (start-up: compiling what it needs), read VmRSS before and after and
  time a full garbage collection before, after, and after with the library unfrozen (what
  ``gc.freeze`` spares), time a warm block against its bare render (``block.py``),
  time a bare sqlite3 read of every row of every table of the same database, and time the
  engine's refresh after another writer published one edit (it reads only the changes);
- ``import-files``: ``Engine.import_library(folder)``, the real path from files (load, check,
  compile every body, store), against a bare read of every file of the folder.
Each prints one JSON object on stdout; ``run.py`` starts them and enforces their time limits.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from benchmarks.measure import ROOT, rss_bytes


def build(size: int, db_url: str) -> dict[str, Any]:
    from benchmarks.synth import make_library
    from content_engine.store import Repository

    start = time.perf_counter()
    library = make_library(size)
    made = time.perf_counter() - start
    with Repository(db_url) as repository:
        start = time.perf_counter()
        repository.import_library(library)
        stored = time.perf_counter() - start
    return {"size": size, "generate_s": made, "store_s": stored}


def bare_read(db_path: Path) -> float:
    """Seconds to fetch every row of every table with plain sqlite3: the floor of a load."""
    start = time.perf_counter()
    with sqlite3.connect(db_path) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for name in names:
            rows = conn.execute(f'SELECT * FROM "{name}"').fetchall()
            del rows
    return time.perf_counter() - start


def measure(db_url: str, component: str, repeat: int) -> dict[str, Any]:
    from benchmarks.block import probe, reader_context
    from content_engine import Engine, Settings

    gc.collect()
    gc_before = full_collection()
    before = rss_bytes()
    opened = time.perf_counter()
    engine = Engine(Settings(db_url=db_url, home=ROOT))
    start = time.perf_counter()
    library = engine.library()
    load = time.perf_counter() - start
    engine.block(component, reader_context())
    first_block = time.perf_counter() - opened
    components = len(library.components)
    gc.collect()
    after = rss_bytes()
    gc_loaded = full_collection()
    gc.unfreeze()  # what the same collection costs when it walks the library too
    gc_unfrozen = full_collection()
    gc.freeze()
    result = probe(engine, component, reader_context(), repeat)
    after_blocks = rss_bytes()
    publish_s = publish_elsewhere(engine, db_url, component)
    engine.close()
    return {
        "components": components,
        "load_s": load,
        "first_block_s": first_block,
        "gc_before_s": gc_before,
        "gc_loaded_s": gc_loaded,
        "gc_unfrozen_s": gc_unfrozen,
        "bare_read_s": bare_read(Path(db_url.removeprefix("sqlite:///"))),
        "rss_before": before,
        "rss_loaded": after,
        "rss_after_blocks": after_blocks,
        "publish_refresh_s": publish_s,
        "block_ours": result.ours,
        "block_bare": result.bare,
        "variant": result.variant,
    }


def full_collection() -> float:
    """Seconds a full collection of the cyclic garbage collector takes now: the pause a
    request meets when the collector runs over what the process holds (best of three)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        gc.collect()
        best = min(best, time.perf_counter() - start)
    return best


def publish_elsewhere(engine: Any, db_url: str, component_id: str) -> float:
    """Seconds until ``engine`` holds an edit another writer published (``Engine.refresh``)."""
    from content_engine.store import Repository

    component = engine.library().components[component_id]
    variant = next(iter(component.variants.values()))
    edited = variant.model_copy(update={"body": variant.body + "<p>edited</p>"})
    with Repository(db_url) as other:
        other.save_variant(component_id, edited, expected_version=variant.version)
    start = time.perf_counter()
    engine.refresh()
    seconds = time.perf_counter() - start
    held = engine.library().components[component_id].variants[variant.key]
    assert held.body == edited.body, "the refresh did not bring the edit"
    return seconds


def read_all(folder: Path) -> float:
    """Seconds to read every file of a folder: the I/O floor of an import."""
    start = time.perf_counter()
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            total += len(Path(dirpath, name).read_bytes())
    return time.perf_counter() - start


def import_files(folder: Path, db_url: str) -> dict[str, Any]:
    from content_engine import Engine, Settings

    bare = read_all(folder)
    with Engine(Settings(db_url=db_url, home=ROOT)) as engine:
        start = time.perf_counter()
        report = engine.import_library(folder)
        seconds = time.perf_counter() - start
    return {"import_s": seconds, "bare_read_s": bare, "summary": report.summary()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("--size", type=int, required=True)
    b.add_argument("--db", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--db", required=True)
    m.add_argument("--component", required=True)
    m.add_argument("--repeat", type=int, default=15)
    i = sub.add_parser("import-files")
    i.add_argument("--folder", type=Path, required=True)
    i.add_argument("--db", required=True)
    args = parser.parse_args()
    if args.command == "build":
        result = build(args.size, args.db)
    elif args.command == "measure":
        result = measure(args.db, args.component, args.repeat)
    else:
        result = import_files(args.folder, args.db)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
