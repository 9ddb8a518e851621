"""Exercise environments through the platform: routing, registration by workers, what learners see."""

from __future__ import annotations

import pytest

from course.curriculum.models import ExerciseVersion, SandboxEnvironment
from course.curriculum.services import environments_register, exercise_publish
from course.submissions.models import Submission
from course.submissions.services import queue_for
from tests.platform.support import Worker, client_for, upload, wait_graded
from tests.support import notebook, write_bundle

LENS_TESTS = """
import pytest

@pytest.mark.points(2)
def test_cache_has_the_pattern(student):
    assert student.pattern_shape() == [1, 2, 3, 3], "cache['pattern', 0] of one sequence of 3 tokens"
"""
LENS_SOLUTION = notebook(
    """
    import torch
    from transformer_lens import HookedTransformer, HookedTransformerConfig
    cfg = HookedTransformerConfig(n_layers=1, d_model=8, n_ctx=4, d_head=4, n_heads=2, d_vocab=5, attn_only=True)
    model = HookedTransformer(cfg)
    def pattern_shape():
        _, cache = model.run_with_cache(torch.tensor([[0, 1, 2]]))
        return list(cache["pattern", 0].shape)
    """
)


def _lens_exercise(curriculum, settings) -> str:
    """Publish a small TransformerLens exercise (environment mi) into the test curriculum."""
    path = write_bundle(
        settings.EXERCISES_DIR.parent / "extra", LENS_TESTS, slug="lens-probe", points=2, environment="mi"
    )
    target = settings.EXERCISES_DIR / "mi-tooling" / "lens-probe"
    target.parent.mkdir(exist_ok=True)
    path.rename(target)
    (target / "solution.ipynb").write_bytes(LENS_SOLUTION)
    version, _ = exercise_publish(path=target)
    assert version.environment == "mi"
    return "lens-probe"


@pytest.mark.parametrize(
    ("gpu", "environment", "queue"),
    [("none", "base", "cpu"), ("none", "mi", "cpu-mi"), ("required", "mi", "gpu-mi"), ("required", "base", "gpu")],
)
def test_each_environment_has_its_own_queues(gpu, environment, queue):
    assert queue_for(ExerciseVersion(gpu=gpu, environment=environment)) == queue


@pytest.mark.django_db
def test_an_exercise_without_a_grader_for_its_environment_is_refused_and_nothing_stored(
    curriculum, settings, instructor
):
    slug = _lens_exercise(curriculum, settings)
    client = client_for(instructor)
    response = upload(client, slug, LENS_SOLUTION)
    assert response.status_code == 503, response.content
    assert "environment 'mi'" in response.json()["detail"] and not Submission.objects.exists()
    detail = client.get(f"/api/v1/exercises/{slug}").json()
    assert detail["environment"] == {"name": "mi", "available": False, "image": "", "description": "", "packages": []}


@pytest.mark.docker
@pytest.mark.django_db
def test_workers_register_what_each_image_holds_and_learners_see_it(curriculum, settings, instructor, sandbox_settings):
    registered = environments_register(
        images=sandbox_settings.images | {"ghost": "coursegrade-sandbox:ghost"}, worker="w1"
    )
    assert sorted(env.name for env in registered) == ["base", "mi"]  # the missing image is skipped
    mi = SandboxEnvironment.objects.get(name="mi")
    assert mi.image == sandbox_settings.image_for("mi") and "transformer_lens" in mi.heavy_modules
    slug = _lens_exercise(curriculum, settings)
    detail = client_for(instructor).get(f"/api/v1/exercises/{slug}").json()["environment"]
    assert detail["available"] and detail["image"] == mi.image
    assert any(p.lower().replace("_", "-") == "transformer-lens==2.18.0" for p in detail["packages"])
    page = client_for(None)
    page.force_login(instructor)
    html = page.get(f"/exercises/{slug}/").content.decode()
    assert 'data-environment="mi"' in html and "transformer_lens==2.18.0" in html.replace("-", "_")


@pytest.mark.docker
@pytest.mark.django_db(transaction=True)
def test_a_worker_with_mi_grades_a_transformer_lens_exercise_in_it(curriculum, settings, instructor, sandbox_settings):
    slug = _lens_exercise(curriculum, settings)
    worker = Worker(sandbox_settings.image).start()  # consumes cpu and gpu, so also cpu-mi and gpu-mi
    try:
        assert "cpu-mi" in worker.log.read_text()
        client = client_for(instructor)
        body = wait_graded(client, upload(client, slug, LENS_SOLUTION).json()["id"], timeout=240)
    finally:
        worker.stop()
    assert (body["status"], body["score"]) == ("graded", 2.0), body
    stored = Submission.objects.get(id=body["id"])
    assert (stored.queue, stored.environment, stored.image) == ("cpu-mi", "mi", sandbox_settings.image_for("mi"))
    assert body["result"]["environment"] == "mi" and body["result"]["timings"]["preload"] > 0
