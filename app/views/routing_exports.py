"""The proposed routing manifest as each gateway reads it (native, LiteLLM, Portkey, OpenRouter):
the files, and the Routing page's download buttons for them."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.tuner import exports
from app.tuner import manifest as manifest_mod

# the proposed manifest as each gateway reads it: (label, file name, MIME type)
DOWNLOADS = {
    "native": ("Native (YAML)", "ai-router.config.yaml", "application/yaml"),
    "litellm": ("LiteLLM (YAML)", "litellm-config.yaml", "application/yaml"),
    "portkey": ("Portkey (JSON)", "portkey-config.json", "application/json"),
    "openrouter": ("OpenRouter (JSON)", "openrouter.json", "application/json"),
}


def export_files(text: str, file: str) -> dict[str, str]:
    """The proposed manifest in every format of :data:`DOWNLOADS` (a format that cannot express
    it is left out; :func:`downloads` says why)."""
    proposed = manifest_mod.loads(text, file)
    out: dict[str, str] = {}
    for fmt in DOWNLOADS:
        try:
            out[fmt] = exports.export(proposed, fmt)
        except (manifest_mod.ManifestError, ValueError) as e:
            out[fmt + ":error"] = str(e)
    return out


def downloads(data: dict[str, Any]) -> None:
    """The proposed manifest in each gateway's own format."""
    files = data["exports"]
    cols = st.columns(len(DOWNLOADS))
    for col, (fmt, (label, name, mime)) in zip(cols, DOWNLOADS.items(), strict=True):
        if fmt in files:
            col.download_button(
                label,
                data=files[fmt],
                file_name=name,
                mime=mime,
                key=f"rl_routing_download_{fmt}",
                icon=":material/download:",
                width="stretch",
            )
        else:
            col.caption(f"{label}: not available ({files.get(fmt + ':error', 'unknown error')})")
