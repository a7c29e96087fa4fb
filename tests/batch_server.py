"""A local server speaking OpenAI's Files and Batches endpoints, for tests through the real `openai` SDK.

    with BatchServer(answer) as server:
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="test")

`POST /v1/files` (multipart, purpose "batch"), `GET /v1/files` (`?purpose=`), `GET /v1/files/{id}`,
`GET /v1/files/{id}/content`, `POST /v1/batches`, `GET /v1/batches`, `GET /v1/batches/{id}`: the
objects and JSONL lines in OpenAI's wire format (authored from its API reference, not recorded). A batch
is "validating" when made, "in_progress" at its first retrieval and finished at its second: each input
line is answered by `answer(body)`, which returns (status code, response body); the server writes the
200s to the output file and the rest to the error file as OpenAI does. With `expire_after=N` a batch
runs its first N lines and expires: the others go to the error file with code `batch_expired`.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlparse

Answer = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]


class BatchServer:
    def __init__(self, answer: Answer, *, expire_after: int | None = None) -> None:
        self.answer = answer
        self.expire_after = expire_after
        self.files: dict[str, dict[str, Any]] = {}
        self.contents: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.lines_run: list[str] = []  # custom_ids of every input line run, across all batches
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the batch server is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> BatchServer:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        assert self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def add_file(self, filename: str, content: bytes, purpose: str) -> dict[str, Any]:
        with self._lock:
            file = {
                "id": f"file-{uuid.uuid4().hex[:24]}",
                "object": "file",
                "bytes": len(content),
                "created_at": int(time.time()),
                "filename": filename,
                "purpose": purpose,
                "status": "processed",
                "status_details": None,
                "expires_at": None,
            }
            self.files[file["id"]] = file
            self.contents[file["id"]] = content
            return file

    def create_batch(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        file_id = request.get("input_file_id")
        if file_id not in self.files:
            return 404, _error(f"No such File object: {file_id}", "invalid_request_error")
        if request.get("endpoint") != "/v1/chat/completions" or request.get("completion_window") != "24h":
            return 400, _error("endpoint must be /v1/chat/completions and completion_window 24h")
        now = int(time.time())
        batch = {
            "id": f"batch_{uuid.uuid4().hex[:24]}",
            "object": "batch",
            "endpoint": request["endpoint"],
            "errors": None,
            "input_file_id": file_id,
            "completion_window": "24h",
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": now,
            "in_progress_at": None,
            "expires_at": now + 86_400,
            "finalizing_at": None,
            "completed_at": None,
            "failed_at": None,
            "expired_at": None,
            "cancelling_at": None,
            "cancelled_at": None,
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "metadata": request.get("metadata"),
        }
        with self._lock:
            self.batches[batch["id"]] = batch
        return 200, batch

    def advance(self, batch: dict[str, Any]) -> None:
        """validating → in_progress at the first look, → completed or expired at the second."""
        with self._lock:
            if batch["status"] == "validating":
                batch["status"], batch["in_progress_at"] = "in_progress", int(time.time())
                return
            if batch["status"] != "in_progress":
                return
            batch["status"] = "finalizing"
        lines = [json.loads(x) for x in self.contents[batch["input_file_id"]].splitlines() if x.strip()]
        outputs, errors = [], []
        for n, line in enumerate(lines):
            custom_id = line["custom_id"]
            request_id = f"req_{uuid.uuid4().hex[:24]}"
            if self.expire_after is not None and n >= self.expire_after:
                expired = {"code": "batch_expired", "message": "This request could not be executed before "
                           "the completion window expired."}  # fmt: skip
                errors.append(
                    {"id": f"batch_req_{n}", "custom_id": custom_id, "response": None, "error": expired}
                )
                continue
            with self._lock:
                self.lines_run.append(custom_id)
            status, body = self.answer(line["body"])
            item = {
                "id": f"batch_req_{n}",
                "custom_id": custom_id,
                "response": {"status_code": status, "request_id": request_id, "body": body},
                "error": None,
            }
            (outputs if status == 200 else errors).append(item)
        expired = self.expire_after is not None and self.expire_after < len(lines)
        now = int(time.time())
        with self._lock:
            for kind, items in (("output_file_id", outputs), ("error_file_id", errors)):
                if items:
                    content = "".join(json.dumps(i) + "\n" for i in items).encode()
                    batch[kind] = self.add_file(f"{batch['id']}_{kind}.jsonl", content, "batch_output")["id"]
            failed = len(errors) if not expired else len([e for e in errors if e["response"]])
            batch["request_counts"] = {"total": len(lines), "completed": len(outputs), "failed": failed}
            batch["status"] = "expired" if expired else "completed"
            batch["expired_at" if expired else "completed_at"] = now


def _error(message: str, type: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": None, "code": None}}


def _page(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "list",
        "data": items,
        "first_id": items[0]["id"] if items else None,
        "last_id": items[-1]["id"] if items else None,
        "has_more": False,
    }


def _handler_class(server: BatchServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            url = urlparse(self.path)
            parts = url.path.strip("/").split("/")  # ["v1", "files", id, "content"]
            if parts[1:] == ["files"]:
                purpose = parse_qs(url.query).get("purpose", [None])[0]
                files = [f for f in server.files.values() if purpose in (None, f["purpose"])]
                return self._json(200, _page(files))
            if parts[1] == "files" and len(parts) >= 3 and parts[2] in server.files:
                if parts[3:] == ["content"]:
                    return self._send(200, server.contents[parts[2]], "application/octet-stream")
                return self._json(200, server.files[parts[2]])
            if parts[1:] == ["batches"]:
                return self._json(200, _page(list(server.batches.values())))
            if parts[1] == "batches" and len(parts) == 3 and parts[2] in server.batches:
                batch = server.batches[parts[2]]
                server.advance(batch)
                return self._json(200, batch)
            self._json(404, _error(f"no such object: {url.path}"))

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length)
            path = urlparse(self.path).path.rstrip("/")
            if path == "/v1/files":
                head = f"Content-Type: {self.headers['content-type']}\r\n\r\n".encode()
                message = BytesParser(policy=HTTP).parsebytes(head + raw)
                fields = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}
                upload, purpose = fields.get("file"), fields.get("purpose")
                if upload is None or purpose is None:
                    return self._json(400, _error("multipart form needs 'file' and 'purpose'"))
                content = upload.get_payload(decode=True)
                name = upload.get_filename() or "upload.jsonl"
                kind = purpose.get_payload(decode=True).decode()
                return self._json(200, server.add_file(name, content, kind))
            if path == "/v1/batches":
                return self._json(*server.create_batch(json.loads(raw)))
            self._json(404, _error(f"no such endpoint: {path}"))

        def _json(self, status: int, body: Any) -> None:
            self._send(status, json.dumps(body).encode(), "application/json")

        def _send(self, status: int, data: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
