"""How the containers are asked for, without starting them: limits, mounts, GPU device requests."""

import json
from pathlib import Path

import pytest

from grader.bundle import load_bundle
from grader.engine import EngineSettings, GpuUnavailable, _device_for
from grader.limits import DEFAULT_LIMITS
from sandbox.driver import JUDGE_JOB, KERNEL_JOB, SandboxJob, _judge_job, _judge_spec, _kernel_job, _kernel_spec
from tests.support import write_bundle


def _job(**kwargs):
    kwargs.setdefault("limits", DEFAULT_LIMITS)
    return SandboxJob(image="img", notebook=b"{}", kernel_files={}, judge_files={}, **kwargs)


def _env(spec, name):
    return json.loads(spec["environment"][name])


def test_kernel_spec_applies_every_limit():
    spec = _kernel_spec(_job().shape, "cg-x", {"l": "1"}, 60)
    assert spec["network_mode"] == "none" and spec["read_only"] is True
    assert spec["cap_drop"] == ["ALL"] and spec["security_opt"] == ["no-new-privileges"]
    # Root only to start the learner's kernel as the learner and then become the runner for good.
    assert spec["user"] == "0:0" and spec["cap_add"] == ["SETUID", "SETGID"]
    assert spec["mem_limit"] == spec["memswap_limit"] == f"{DEFAULT_LIMITS.memory_mb}m"
    assert spec["pids_limit"] == DEFAULT_LIMITS.pids
    assert spec["nano_cpus"] == int(DEFAULT_LIMITS.cpus * 1e9)
    assert spec["tmpfs"]["/tmp"].startswith(f"size={DEFAULT_LIMITS.scratch_mb}m")
    assert {m["Target"] for m in spec["mounts"]} == {"/input", "/ipc", "/status"}
    assert "device_requests" not in spec


def test_judge_never_gets_the_gpu_or_the_kernels_input():
    spec = _judge_spec(_job(gpu_device_ids=("0",), device="cuda").shape, "cg-x", {}, 60)
    assert "device_requests" not in spec
    assert {m["Target"] for m in spec["mounts"]} == {"/bundle", "/ipc", "/status"}
    assert all(m["ReadOnly"] for m in spec["mounts"] if m["Target"] in ("/ipc", "/status"))
    assert spec["user"] == "1001:1001" and "cap_add" not in spec


def test_gpu_devices_go_to_the_kernel_by_device_request():
    spec = _kernel_spec(_job(gpu_device_ids=("0", "1"), device="cuda").shape, "cg-x", {}, 60)
    (request,) = spec["device_requests"]
    assert request["DeviceIDs"] == ["0", "1"] and request["Capabilities"] == [["gpu"]]
    assert spec["environment"]["GRADER_DEVICE"] == "cuda"


def test_a_pair_is_started_with_nothing_of_its_grading():
    """Warm pairs are started before their grading: what they are created with is the same for every
    grading of their shape, and the grading's settings (the nonce among them) come with the job."""
    job = _job(limits=DEFAULT_LIMITS.override({"timeout_s": 7, "test_timeout_s": 3}))
    kernel, judge = (
        _env(_kernel_spec(job.shape, "cg-x", {}, 60), "GRADER_KERNEL"),
        _env(_judge_spec(job.shape, "cg-x", {}, 60), "GRADER_JUDGE"),
    )
    assert kernel["job"] == KERNEL_JOB and judge["job"] == JUDGE_JOB and kernel["claim_wait_s"] == 60
    assert not {"timeout_s", "cell_timeout_s", "serve_s"} & kernel.keys()
    assert not {"nonce", "tests", "codecs", "test_timeout_s", "kernel_wait_s"} & judge.keys()
    assert _kernel_job(job)["timeout_s"] == 7
    assert _judge_job(job, "n0nce")["nonce"] == "n0nce" and _judge_job(job, "n")["test_timeout_s"] == 3
    assert job.shape == _job().shape  # time limits are not part of the shape: one warm pair serves both


def test_container_limits_are_part_of_the_shape():
    assert _job(limits=DEFAULT_LIMITS.override({"memory_mb": 3072})).shape != _job().shape
    assert _job(device="cuda", gpu_device_ids=("0",)).shape != _job().shape


@pytest.mark.parametrize(
    ("gpu", "devices", "expected"),
    [
        ("none", ("0",), ("cpu", ())),
        ("optional", (), ("cpu", ())),
        ("optional", ("0",), ("cuda", ("0",))),
        ("required", ("0", "1"), ("cuda", ("0", "1"))),
    ],
)
def test_device_choice(tmp_path: Path, gpu, devices, expected):
    bundle = load_bundle(write_bundle(tmp_path, "def test_x(): pass\n", gpu=gpu))
    assert _device_for(bundle, EngineSettings(image="img", gpu_devices=devices)) == expected


def test_required_gpu_without_devices_is_refused(tmp_path: Path):
    bundle = load_bundle(write_bundle(tmp_path, "def test_x(): pass\n", gpu="required"))
    with pytest.raises(GpuUnavailable, match="needs a GPU"):
        _device_for(bundle, EngineSettings(image="img"))


def test_settings_from_environment(monkeypatch):
    monkeypatch.setenv("SANDBOX_IMAGE", "custom:tag")
    monkeypatch.setenv("SANDBOX_GPU_DEVICES", "0, 2")
    settings = EngineSettings.from_env()
    assert settings.image == "custom:tag" and settings.gpu_devices == ("0", "2")
