"""``--device`` names: malformed or absent devices are one clear error listing what exists."""

from __future__ import annotations

import pytest
import torch

from reprlearn.device import DeviceError, available_devices, resolve_device


def test_auto_and_cpu_resolve():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    assert available_devices()[0] == "cpu"


@pytest.mark.parametrize("name", ["gpu0", "cuda:x", "GPU"])
def test_malformed_device_lists_valid_names_and_existing_devices(name):
    with pytest.raises(
        DeviceError, match=rf"--device '{name}' is not a device name.*cuda:N.*has: cpu"
    ):
        resolve_device(name)  # was RuntimeError: Invalid device string


def test_unsupported_device_type():
    with pytest.raises(DeviceError, match="reprlearn runs on auto, cpu, cuda"):
        resolve_device("meta")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu_says_which_devices_exist():
    with pytest.raises(
        DeviceError, match=r"--device 'cuda': no CUDA GPU.*it has: cpu.*--device auto"
    ):
        resolve_device("cuda")


def test_cuda_index_beyond_the_gpus(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with pytest.raises(DeviceError, match=r"has 2 CUDA GPU\(s\): cpu, cuda:0, cuda:1"):
        resolve_device("cuda:3")
    assert resolve_device("cuda:1") == torch.device("cuda:1")


def test_device_error_is_a_value_error():
    assert issubclass(DeviceError, ValueError)


def test_embed_checks_the_device_even_for_classical_encoders(tmp_path):
    from reprlearn.embed import encode_items

    with pytest.raises(DeviceError, match="gpu0"):
        encode_items("tfidf", ["a b", "a c"], device="gpu0")  # was silently ignored
