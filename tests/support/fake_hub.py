"""A stand-in for the Hugging Face Hub on loopback, answering what huggingface_hub 1.21's `snapshot_download` asks:

- `GET /api/models/{org}/{name}[/revision/{rev}]`: the model info, with its commit `sha` and `siblings`;
- `HEAD` and `GET /{org}/{name}/resolve/{rev}/{file}`: the file, with `X-Repo-Commit`, `ETag` and `Content-Length`,
  and `Range: bytes=N-` answered with 206 (how huggingface_hub resumes a download whose connection dropped);
- 404 with `X-Error-Code: RepoNotFound` / `RevisionNotFound` / `EntryNotFound`, as the Hub says it.

Tests point HF_ENDPOINT at `hub.url`. Every request is recorded (method, path, Range header), and `cut_once`
makes the next GET of a file close the connection after some bytes, as a dropped download does.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEFAULT_BRANCH = "main"


@dataclass
class Repo:
    files: dict[str, bytes]
    sha: str  # the commit id of the default branch

    @classmethod
    def from_folder(cls, folder: Path, extra: dict[str, bytes] | None = None) -> Repo:
        files = {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}
        return cls.from_files({**files, **(extra or {})})

    @classmethod
    def from_files(cls, files: dict[str, bytes]) -> Repo:
        digest = hashlib.sha1()
        for name in sorted(files):
            digest.update(name.encode() + hashlib.sha256(files[name]).digest())
        return cls(files, digest.hexdigest())


@dataclass
class Request:
    method: str
    path: str
    range: str | None


@dataclass
class FakeHub:
    repos: dict[str, Repo] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    cuts: dict[str, int] = field(default_factory=dict)  # file -> bytes sent before the connection is closed (once)
    url: str = ""
    _server: ThreadingHTTPServer | None = None

    def start(self) -> FakeHub:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def cut_once(self, filename: str, after_bytes: int) -> None:
        self.cuts[filename] = after_bytes

    def file_gets(self) -> list[Request]:
        return [request for request in self.requests if request.method == "GET" and "/resolve/" in request.path]


def _handler(hub: FakeHub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet: the test output is not the place for an access log
            pass

        def do_GET(self) -> None:
            self._answer(with_body=True)

        def do_HEAD(self) -> None:
            self._answer(with_body=False)

        def _answer(self, with_body: bool) -> None:
            path = unquote(urlsplit(self.path).path)
            hub.requests.append(Request(self.command, path, self.headers.get("Range")))
            parts = path.strip("/").split("/")
            if parts[:2] == ["api", "models"] and len(parts) >= 4:
                self._model_info(f"{parts[2]}/{parts[3]}", parts[5] if parts[4:5] == ["revision"] else None)
            elif len(parts) >= 5 and parts[2] == "resolve":
                self._file(f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:]), with_body)
            else:
                self._error(404, "EntryNotFound", "not found")

        def _repo(self, repo_id: str, revision: str | None) -> Repo | None:
            repo = hub.repos.get(repo_id)
            if repo is None:
                self._error(404, "RepoNotFound", f"Repository not found: {repo_id}")
                return None
            if revision not in (None, DEFAULT_BRANCH, repo.sha):
                self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
                return None
            return repo

        def _model_info(self, repo_id: str, revision: str | None) -> None:
            repo = self._repo(repo_id, revision)
            if repo is None:
                return
            body = json.dumps(
                {
                    "id": repo_id,
                    "modelId": repo_id,
                    "sha": repo.sha,
                    "private": False,
                    "siblings": [{"rfilename": name} for name in sorted(repo.files)],
                }
            ).encode()
            self._send(200, {"Content-Type": "application/json"}, body, True)

        def _file(self, repo_id: str, revision: str, filename: str, with_body: bool) -> None:
            repo = self._repo(repo_id, revision)
            if repo is None:
                return
            if filename not in repo.files:
                self._error(404, "EntryNotFound", f"{filename} not found")
                return
            data = repo.files[filename]
            headers = {
                "X-Repo-Commit": repo.sha,
                "ETag": f'"{hashlib.sha256(data).hexdigest()}"',
                "Accept-Ranges": "bytes",
                "Content-Type": "application/octet-stream",
            }
            start = _range_start(self.headers.get("Range"))
            status = 206 if start else 200
            if start:
                headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            body = data[start:]
            cut = hub.cuts.pop(filename, None) if with_body else None
            if cut is not None:
                self._send(status, headers, body, with_body, declared=len(body), sent=body[:cut])
                self.close_connection = True
                return
            self._send(status, headers, body, with_body)

        def _error(self, status: int, code: str, message: str) -> None:
            body = json.dumps({"error": message}).encode()
            self._send(status, {"X-Error-Code": code, "Content-Type": "application/json"}, body, True)

        def _send(self, status, headers, body, with_body, declared=None, sent=None) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body) if declared is None else declared))
            self.end_headers()
            if with_body:
                self.wfile.write(body if sent is None else sent)
                self.wfile.flush()

    return Handler


def _range_start(header: str | None) -> int:
    """N of `bytes=N-` (the only form huggingface_hub sends); 0 without a Range."""
    if not header or not header.startswith("bytes="):
        return 0
    return int(header[len("bytes=") :].split("-", 1)[0] or 0)
