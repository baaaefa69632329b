"""A local HTTP server that serves feed payloads in sequence, as the national feed's does.

The test decides what is served (`serve(body)`); the server answers conditional requests with
304 when `etag` is on, records every request's headers, and can fail on purpose (status,
HTML error page) — the follower must treat those as failed polls, not alerts.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class FeedState:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/json; charset=utf-8"
    etag: bool = True
    requests: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FeedServer:
    def __init__(self) -> None:
        self.state = FeedState()
        state = self.state

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with state.lock:
                    state.requests.append(dict(self.headers.items()))
                    body, status, etag = state.body, state.status, state.etag
                    content_type = state.content_type
                tag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if status == 200 and etag and self.headers.get("If-None-Match") == tag:
                    self.send_response(304)
                    self.send_header("ETag", tag)
                    self.end_headers()
                    return
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                if etag and status == 200:
                    self.send_header("ETag", tag)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{port}/WarningMessages/alert/Alerts.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, body: bytes, status: int = 200,
              content_type: str = "application/json; charset=utf-8") -> None:
        with self.state.lock:
            self.state.body, self.state.status = body, status
            self.state.content_type = content_type

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
