"""``serve``: check the database, then run the HTTP API under uvicorn.

In: the address, the worker count and the settings' flags (``--db``, ``--refresh``,
``--open``, ``--public-url``, ``--sources``, ``--geoip``, ``--geoip-db``, ``--trusted-proxy``,
``--log-format``, ``--access-log``, ``--metrics-public``, ``--loop``). Out: a running server,
logging to stderr as ``engine.logs`` sets up. The workers are separate processes that build
their app from the environment, so the settings checked here are handed to them as variables
(and the logging set-up to uvicorn, which applies it in each); each one's app listens for other
processes' writes on PostgreSQL (the app's lifespan, ``Engine.listen``). Each connection turns
Nagle's algorithm off itself (``web.protocol``), on either event loop.
"""

from __future__ import annotations

import importlib.util
import logging
import logging.config
import os
from typing import Annotated

import typer

from content_engine import ContentEngineError, Engine, Settings
from content_engine.cli.errors import fail
from content_engine.cli.options import DbOption, SourcesOption, setting_flag
from content_engine.engine import log_config
from content_engine.settings import (
    ACCESS_LOG,
    EVENT_LOOP,
    GEOIP,
    GEOIP_DB,
    LOG_FORMAT,
    METRICS_PUBLIC,
    OPEN_ACCESS,
    OPTIONS,
    PUBLIC_URL,
    REFRESH,
    TRUSTED_PROXIES,
    event_loop_for,
)

# ``--help`` ends with the settings that have no flag: they are read from the environment.
EPILOG = "\n\n".join(
    [
        "Settings read from the environment only:",
        *(
            f"{option.env}: {option.help} Default {option.shown_default}."
            for option in OPTIONS
            if option.flag is None
        ),
    ]
)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 8000,
    open_access: Annotated[bool, setting_flag(OPEN_ACCESS)] = False,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1, max=64)] = 1,
    refresh: Annotated[float | None, setting_flag(REFRESH)] = None,
    db: DbOption = None,
    public_url: Annotated[str | None, setting_flag(PUBLIC_URL)] = None,
    sources: SourcesOption = None,
    geoip: Annotated[bool | None, setting_flag(GEOIP)] = None,
    geoip_db: Annotated[str | None, setting_flag(GEOIP_DB, metavar="FILE")] = None,
    trusted_proxy: Annotated[
        list[str] | None, setting_flag(TRUSTED_PROXIES, metavar="CIDR")
    ] = None,
    log_format: Annotated[str | None, setting_flag(LOG_FORMAT)] = None,
    access_log: Annotated[bool, setting_flag(ACCESS_LOG)] = False,
    metrics_public: Annotated[bool, setting_flag(METRICS_PUBLIC)] = False,
    loop: Annotated[str | None, setting_flag(EVENT_LOOP)] = None,
) -> None:
    """Run the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    try:
        # --open alone opens the server: a variable left in the environment never does.
        settings = Settings.from_env(
            db_url=db,
            refresh=refresh,
            open_access=open_access,
            public_url=public_url,
            sources=sources,
            geoip=geoip,
            geoip_db=geoip_db,
            trusted_proxies=",".join(trusted_proxy or ()),
            log_format=log_format,
            # A switch not given is left to its variable (``--open`` alone is not).
            access_log=access_log or None,
            metrics_public=metrics_public or None,
            event_loop=loop,
        )
        uvloop_installed = importlib.util.find_spec("uvloop") is not None
        event_loop = event_loop_for(settings.event_loop, workers, uvloop_installed=uvloop_installed)
    except ContentEngineError as exc:
        fail(exc.message, exc.exit_code)
    say = _Say(settings.log_format)
    if open_access:
        say.warning(
            "WARNING: --open: no API keys are checked, every caller is admin. "
            "Never expose this server."
        )
    try:
        with Engine(settings):  # migrate and check the database before binding the port
            pass
    except ContentEngineError as exc:
        fail(exc.message, exc.exit_code)
    say.info(f"content-engine on http://{host}:{port}/  (docs: http://{host}:{port}/docs)")
    os.environ.update(settings.as_environ())
    uvicorn.run(
        "content_engine.web.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop=event_loop,
        http="content_engine.web.protocol:NoDelayHttpProtocol",  # each worker imports it
        log_config=log_config(settings.log_format),
        log_level="info",
        access_log=False,  # ours (``--access-log``) names the route and the request id
    )


class _Say:
    """What ``serve`` itself says before uvicorn starts: on stderr as the server's log is
    written, so that with ``--log-format json`` every line is a JSON object."""

    def __init__(self, log_format: str) -> None:
        self.json = log_format == "json"
        if self.json:
            logging.config.dictConfig(log_config(log_format))
        self.logger = logging.getLogger("content_engine.cli")

    def warning(self, text: str) -> None:
        if self.json:
            self.logger.warning(text)
        else:
            typer.secho(text, err=True, fg="red", bold=True)

    def info(self, text: str) -> None:
        if self.json:
            self.logger.info(text)
        else:
            typer.echo(text, err=True)
