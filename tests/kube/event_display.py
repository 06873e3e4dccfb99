"""Stand-in for Knative's event_display image, run by the API double as a pod's process.

The image cannot run here (no containers), so this prints each CloudEvent it receives in
the image's own block format (Validation, Context Attributes, Extensions, Data) to stdout,
which the double serves as the pod log. Standard library only; binds 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONTEXT = ("specversion", "type", "source", "subject", "id", "time", "schemaurl",
           "dataschema", "datacontenttype")


def render(attributes: dict[str, str], data: bytes) -> str:
    lines = ["☁️  cloudevents.Event", "Validation: valid", "Context Attributes,"]
    lines += [f"  {k}: {attributes[k]}" for k in CONTEXT if k in attributes]
    extensions = sorted(k for k in attributes if k not in CONTEXT)
    if extensions:
        lines.append("Extensions,")
        lines += [f"  {k}: {attributes[k]}" for k in extensions]
    if data:
        lines.append("Data,")
        try:
            text = json.dumps(json.loads(data), indent=2)
        except ValueError:
            text = data.decode(errors="replace")
        lines += [f"  {line}" for line in text.splitlines()]
    return "\n".join(lines) + "\n"


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Type", "").startswith("application/cloudevents+json"):
            raw = json.loads(body)
            data = raw.pop("data", None)
            attributes = {k: str(v) for k, v in raw.items()}
            body = json.dumps(data).encode() if data is not None else b""
        else:
            attributes = {k.lower()[3:]: v for k, v in self.headers.items()
                          if k.lower().startswith("ce-")}
            if self.headers.get("Content-Type"):
                attributes["datacontenttype"] = self.headers["Content-Type"]
        sys.stdout.write(render(attributes, body))
        sys.stdout.flush()
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "0"))), Handler)
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
