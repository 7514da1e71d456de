"""The engine: the facade the web and the CLI speak to, and what it runs on (caches, pools, batch).

It sits above the adapters (``library``, ``store``, ``rendering``) and the pure ``core``. What
the web layer and the CLI use is re-exported here, so that they import nothing behind it.
"""

from __future__ import annotations

from content_engine.engine.access import ROLES, SESSION_TTL, Access, KeyInfo
from content_engine.engine.editing import Editor, SavedVariant
from content_engine.engine.facade import Engine, Rendered
from content_engine.engine.feedback import BY, FeedbackDesk, Issued, Report, StoredAnswer
from content_engine.engine.freshness import Freshness, Stamp
from content_engine.engine.impact import VariantImpact, variant_impact
from content_engine.engine.logs import ACCESS_LOGGER, REQUEST_ID, log_config
from content_engine.engine.lookup import Provenance, provenance
from content_engine.engine.retention import PurgeRequest, Retention
from content_engine.engine.samplefeedback import seed_feedback
from content_engine.library import format_variant
from content_engine.sources.samplecrm import SampleCrmFiles, write_sample_crm
from content_engine.store.faults import fault_of as domain_error_of

__all__ = [
    "ACCESS_LOGGER",
    "BY",
    "REQUEST_ID",
    "ROLES",
    "SESSION_TTL",
    "Access",
    "Editor",
    "Engine",
    "FeedbackDesk",
    "Freshness",
    "Issued",
    "KeyInfo",
    "Provenance",
    "PurgeRequest",
    "Rendered",
    "Report",
    "Retention",
    "SampleCrmFiles",
    "SavedVariant",
    "Stamp",
    "StoredAnswer",
    "VariantImpact",
    "domain_error_of",
    "format_variant",
    "log_config",
    "provenance",
    "seed_feedback",
    "variant_impact",
    "write_sample_crm",
]
