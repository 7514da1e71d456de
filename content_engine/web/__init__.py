"""The HTTP API (FastAPI): touchpoints, receipts and the editors' API."""

from content_engine.web.app import create_app

__all__ = ["create_app"]
