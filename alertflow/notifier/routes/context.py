"""What the notifier's HTTP routes may read: the store, the catalog, the settings and the feed
(its epoch, last seq and recent events)."""

from __future__ import annotations

from dataclasses import dataclass

from alertflow.backends.ports import StateStore
from alertflow.domain.locations import Catalog
from alertflow.notifier.config import NotifierConfig
from alertflow.notifier.feed import Feed


@dataclass(frozen=True, slots=True)
class RouteContext:
    store: StateStore
    catalog: Catalog
    config: NotifierConfig
    feed: Feed
