"""Look inside image networks: class activation maps, filters, feature maps and sanity checks.

One concept per module: ``layers`` (which layer to hook), ``targets`` (what the map explains),
``cam`` (the maps, through the ``grad-cam`` package), ``grid`` (overlay pictures),
``faithfulness`` (ROAD and deletion curves), ``randomisation`` (Adebayo et al. 2018),
``pointing`` (energy inside an object mask), ``filters`` and ``feature_maps``, and ``api``
(the high-level :func:`explain`). Text classifiers go to ``text_attribution``.
"""

from __future__ import annotations

__all__ = ["compute_cams", "energy_inside", "explain"]


def __getattr__(name: str):
    if name == "compute_cams":
        from reprlearn.explain.cam import compute_cams

        return compute_cams
    if name == "energy_inside":
        from reprlearn.explain.pointing import energy_inside

        return energy_inside
    if name == "explain":
        from reprlearn.explain.api import explain

        return explain
    raise AttributeError(name)
