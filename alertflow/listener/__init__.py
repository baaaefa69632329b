"""The listener role: one module per ingest format over the shared pipeline in `ingest`.

Formats: `own_json` (`/v1/alerts`), `legacy` (`/api/alerts`), `hfc_feed` (`/v1/feeds/hfc`,
the national feed's shapes), `cap_xml` (`/v1/cap`, CAP 1.2). Pure parsing and validation
live in `alertflow.domain`; a format module only maps its routes onto `Ingest.handle`.
"""

from alertflow.listener.app import create_listener_app, create_listener_routes
from alertflow.listener.ingest import ListenerConfig

__all__ = ["ListenerConfig", "create_listener_app", "create_listener_routes"]
