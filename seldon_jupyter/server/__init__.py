"""The Jupyter server extension behind the lab sidebar (enabled by the installed config).

Registers the handlers of `handlers` under `<base_url>/seldon-jupyter/api/` with one
`SeldonJupyter` configured from `c.SeldonJupyter`.
"""

from __future__ import annotations

from typing import Any

from seldon_jupyter.server.handlers import handlers
from seldon_jupyter.server.state import SeldonJupyter


def _load_jupyter_server_extension(server_app: Any) -> None:
    state = SeldonJupyter(config=server_app.config)
    web_app = server_app.web_app
    web_app.settings["seldon_jupyter"] = state
    web_app.add_handlers(".*$", handlers(web_app.settings["base_url"]))
    server_app.log.info("seldon-jupyter server extension loaded (backend %s)", state.backend)
