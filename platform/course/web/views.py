"""Pages. Views only gather what selectors return and hand forms to services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from course.cohorts.models import Cohort
from course.cohorts.selectors import cohort_dashboard, staff_cohort_ids
from course.cohorts.services import cohort_prerequisites_set
from course.curriculum.selectors import environment_view, exercise_get
from course.errors import NotFound, ServiceError
from course.progress.selectors import standings
from course.submissions import selectors as submission_selectors
from course.submissions.models import Submission
from course.submissions.services import regrade_start, submission_create
from course.web import charts
from course.web.statement import render as render_statement


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    modules = standings(learner_ids=[request.user.id])[request.user.id]
    nodes = [
        charts.Node(
            m.slug,
            m.title,
            m.state,
            m.requires,
            f"{m.state.replace('_', ' ')} · {m.time_s / 3600:.1f}/{m.estimated_hours:g} h",
        )
        for m in modules
    ]
    cohorts = Cohort.objects.filter(id__in=staff_cohort_ids(request.user)) if request.user.is_course_staff else []
    return render(
        request, "web/dashboard.html", {"modules": modules, "graph": charts.module_graph(nodes), "cohorts": cohorts}
    )


@login_required
def exercise(request: HttpRequest, slug: str) -> HttpResponse:
    found = exercise_get(slug=slug)
    if found is None or found.current_version is None:
        raise Http404("no such exercise")
    module = next(m for m in standings(learner_ids=[request.user.id])[request.user.id] if m.slug == found.module.slug)
    standing = next(e for e in module.exercises if e.slug == slug)
    history = Submission.objects.filter(learner=request.user, exercise=found).order_by("-queued_at")[:20]
    statement = render_statement(found.current_version.statement)
    return render(
        request,
        "web/exercise.html",
        {
            "exercise": found,
            "module": module,
            "standing": standing,
            "history": history,
            "statement": statement,
            "environment": environment_view(found.current_version.environment),
            "submission_id": request.GET.get("submission", ""),
        },
    )


@login_required
@require_POST
def submit(request: HttpRequest, slug: str) -> HttpResponse:
    upload = request.FILES.get("notebook")
    if upload is None:
        messages.error(request, "choose a notebook (.ipynb) to submit")
        return redirect("web:exercise", slug=slug)
    try:
        submission = submission_create(learner=request.user, exercise_slug=slug, notebook=upload)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("web:exercise", slug=slug)
    return redirect(f"{reverse('web:exercise', args=[slug])}?submission={submission.id}")


@login_required
def cohort(request: HttpRequest, cohort_id: int) -> HttpResponse:
    if cohort_id not in staff_cohort_ids(request.user):
        raise Http404("no such cohort")
    data = cohort_dashboard(cohort=Cohort.objects.get(id=cohort_id))
    chart = charts.time_vs_estimate(
        [(m["slug"], m["hours"], m["median_hours"], m["estimated_hours"]) for m in data["modules"]]
    )
    table = charts.cohort_matrix(data["modules"], data["matrix"])
    export_url = reverse("api-cohort-dashboard", args=[cohort_id])
    return render(request, "web/cohort.html", data | {"chart": chart, "table": table, "export_url": export_url})


@login_required
@require_POST
def cohort_prerequisites(request: HttpRequest, cohort_id: int) -> HttpResponse:
    advisory = request.POST.get("advisory") == "1"
    try:
        cohort_prerequisites_set(user=request.user, cohort_id=cohort_id, advisory=advisory)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    messages.success(
        request,
        "Prerequisites are now advice: every module is open to this cohort's learners."
        if advisory
        else "Prerequisites lock modules again (learners may still test out with checkpoints).",
    )
    return redirect("web:cohort", cohort_id=cohort_id)


@login_required
def exercise_stats(request: HttpRequest, slug: str) -> HttpResponse:
    found = exercise_get(slug=slug)
    if found is None or not request.user.is_course_staff:
        raise Http404("no such exercise")
    return render(
        request, "web/exercise_stats.html", submission_selectors.exercise_stats(exercise=found, viewer=request.user)
    )


@login_required
@require_POST
def regrade(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        started = regrade_start(exercise_slug=slug, requested_by=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("web:dashboard")
    messages.success(request, f"Regrading {started.total} submission(s); progress: /api/v1/regrades/{started.id}")
    return redirect(f"/admin/submissions/regrade/{started.id}/change/")
