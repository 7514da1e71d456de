"""Run an ASGI app under uvicorn (one worker) with cProfile on every thread; dump on exit.

``python -m benchmarks.profiled_server OUT.prof module:app [--factory] --port N``. Used by
benchmark 2 to see where a request's time goes, ours and bare alike: FastAPI runs sync routes
and dependencies in a thread pool, so the event loop's thread alone would miss the engine.
Each new thread gets its own profiler (``threading.setprofile``); on SIGTERM uvicorn returns
and the profiles are merged into one pstats file. SIGUSR1 clears what was profiled so far.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import signal
import threading
from typing import Any

import uvicorn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("app")
    parser.add_argument("--factory", action="store_true")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start_thread_profile(*_: Any) -> None:
        # Called on a new thread's first event; enabling replaces this hook for that thread.
        profile = cProfile.Profile()
        with lock:
            profiles.append(profile)
        profile.enable()

    def clear(*_: Any) -> None:
        # SIGUSR1 after the warm-up: imports, start-up and first requests are not the profile.
        with lock:
            for profile in profiles:
                profile.clear()

    # uvicorn shuts down on SIGTERM and then raises the signal again with the handler it found:
    # with the default one the process would die before writing the profile.
    signal.signal(signal.SIGTERM, lambda *_: None)
    signal.signal(signal.SIGUSR1, clear)
    threading.setprofile(start_thread_profile)
    main_profile = cProfile.Profile()
    profiles.append(main_profile)
    main_profile.enable()
    try:
        uvicorn.run(
            args.app,
            factory=args.factory,
            host="127.0.0.1",
            port=args.port,
            workers=1,
            log_level="warning",
            access_log=False,
        )
    finally:
        main_profile.disable()
        threading.setprofile(None)  # type: ignore[arg-type]
        stats = pstats.Stats(main_profile)
        with lock:
            for profile in profiles[1:]:
                profile.disable()  # only stops it on this thread; the workers are idle by now
                profile.create_stats()
                if profile.stats:  # pstats refuses the empty profile of a thread that ran nothing
                    stats.add(profile)
        stats.dump_stats(args.out)


if __name__ == "__main__":
    main()
