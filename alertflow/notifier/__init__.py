"""The notifier role: Redis events to Socket.IO clients (see service.py for how it is wired)."""

from alertflow.notifier.config import NotifierConfig
from alertflow.notifier.service import Notifier

__all__ = ["Notifier", "NotifierConfig"]
