"""Pictures of autoencoder/VAE encoders for the comparison report: reconstructions of the
first inputs and, for a VAE, samples from the prior (``reprlearn.training.generative``)."""

from __future__ import annotations

import json
from pathlib import Path

import torch


def generative_pictures(encoder: str, source: str, out: Path, n: int = 16) -> dict[str, Path]:
    """For a ``ckpt:RUN`` encoder trained with ``--method ae|vae``: write ``recon.png``
    (inputs above reconstructions, first ``n`` rows of ``source``) and, for a VAE,
    ``samples.png`` (64 draws from N(0, I)) into ``out``. Other encoders: ``{}``."""
    if not encoder.startswith("ckpt:"):
        return {}
    run = Path(encoder[len("ckpt:") :])
    config_path = run / "config.json"
    if not config_path.is_file() or json.loads(config_path.read_text()).get("method") not in (
        "ae",
        "vae",
    ):
        return {}
    from reprlearn.errors import DataError
    from reprlearn.training.generative import (
        load_generative_run,
        load_inputs,
        reconstruct_images,
        sample_images,
        save_grid,
    )

    method, config = load_generative_run(run)
    try:
        x = load_inputs(source, config, n)
    except DataError:  # a source that needs loader options (--data-dir ...): no pictures
        return {}
    files = {"recon": save_grid(torch.stack([x, reconstruct_images(method, x)]), out / "recon.png")}
    if method.name == "vae":
        files["samples"] = save_grid(sample_images(method, 64), out / "samples.png")
    return files
