"""Pages. Views only gather what selectors return and hand forms to services."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from course.cohorts.models import Cohort
from course.cohorts.selectors import cohort_dashboard, staff_cohort_ids
from course.cohorts.services import MAX_SOLUTION_AFTER_ATTEMPTS, cohort_settings_update
from course.curriculum.selectors import environment_view, published_exercise
from course.errors import Forbidden, NotFound, ServiceError
from course.notebook_client import page_setup
from course.progress import time_report as reports
from course.progress.selectors import HelpView, exercise_standing_for, help_for, standings
from course.progress.services import hint_reveal, solution_reveal
from course.submissions import item_stats
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
    try:
        found = published_exercise(slug=slug)
        module, standing = exercise_standing_for(learner=request.user, exercise=found)
    except NotFound as exc:
        raise Http404(exc.message) from exc
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
            "help": _rendered_help(help_for(learner=request.user, exercise=found, open_=standing.open)),
            "client": page_setup(request),
        },
    )


def _rendered_help(help_: HelpView) -> dict:
    return {
        "hints_total": help_.hints_total,
        "hints": [render_statement(h) for h in help_.hints],
        "next_hint": len(help_.hints) + 1 if len(help_.hints) < help_.hints_total and not help_.locked else None,
        "locked": help_.locked,
        "solution_open": help_.solution_open,
        "solution_rule": help_.solution_rule,
        "solution": render_statement(help_.solution) if help_.solution is not None else None,
    }


@login_required
@require_POST
def reveal(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    try:
        if kind == "hint":
            hint_reveal(learner=request.user, exercise_slug=slug)
        else:
            solution_reveal(learner=request.user, exercise_slug=slug)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("web:exercise", args=[slug]) + "#help")


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
    return render(
        request,
        "web/cohort.html",
        data
        | {
            "chart": chart,
            "table": table,
            "export_url": export_url,
            "solution_policies": Cohort.SolutionPolicy.choices,
            "max_solution_after_attempts": MAX_SOLUTION_AFTER_ATTEMPTS,
        },
    )


@login_required
@require_POST
def cohort_settings(request: HttpRequest, cohort_id: int) -> HttpResponse:
    form = request.POST
    attempts = form.get("solution_after_attempts", "").strip()
    if attempts and not attempts.isdigit():
        messages.error(request, "solution_after_attempts must be a whole number")
        return redirect("web:cohort", cohort_id=cohort_id)
    try:
        cohort_settings_update(
            user=request.user,
            cohort_id=cohort_id,
            prerequisites_advisory={"1": True, "0": False}.get(form.get("advisory", "")),
            solution_policy=form.get("solution_policy") or None,
            solution_after_attempts=int(attempts) if attempts else None,
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Cohort settings saved.")
    return redirect("web:cohort", cohort_id=cohort_id)


@login_required
def exercise_stats(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        stats = item_stats.exercise_item_stats(slug=slug, viewer=request.user)
    except (Forbidden, NotFound) as exc:  # a learner is not told which statistics exist
        raise Http404(exc.message) from exc
    context = {
        "stats": stats,
        "recent_errors": submission_selectors.exercise_recent_errors(slug=slug, viewer=request.user),
        "csv_url": f"{reverse('api-exercise-statistics', args=[slug])}?format=csv",
        # The rules behind "not enough data" and the broken-test flag, said on the page.
        "min_learners": item_stats.MIN_LEARNERS,
        "broken_min_learners": item_stats.BROKEN_MIN_LEARNERS,
        "broken_never_passed_share": item_stats.BROKEN_NEVER_PASSED_SHARE,
    }
    return render(request, "web/exercise_stats.html", context)


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


def time_report(request: HttpRequest) -> HttpResponse:
    """Hours per step and module against the published ranges: public unless TIME_REPORT_PUBLIC is off."""
    cohort_param = request.GET.get("cohort", "")
    try:
        report = reports.time_report_for(viewer=request.user, cohort=cohort_param)
    except Forbidden as exc:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise PermissionDenied(exc.message) from exc
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if request.GET.get("format") == "csv":
        response = HttpResponse(reports.report_csv(report), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{reports.report_filename(report)}"'
        return response
    rows = reports.report_rows(report)
    chart = charts.hours_against_range(
        [
            charts.RangeBox(
                s.slug,
                s.title,
                s.published_low_hours,
                s.published_high_hours,
                (s.hours.q1, s.hours.median, s.hours.q3) if s.hours else None,
                report.below_minimum,
            )
            for s in report.steps
        ]
    )
    staff = request.user.is_authenticated and request.user.is_course_staff
    cohorts = list(Cohort.objects.filter(id__in=staff_cohort_ids(request.user)).order_by("name")) if staff else []
    query = {"cohort": report.cohort_id} if report.cohort_id is not None else {}
    return render(
        request,
        "web/time_report.html",
        {
            "report": report,
            "steps": rows["steps"],
            "modules": rows["modules"],
            "chart": chart,
            "cohort": next((c for c in cohorts if c.id == report.cohort_id), None),
            "cohorts": cohorts,
            "csv_url": f"{reverse('web:time-report')}?{urlencode(query | {'format': 'csv'})}",
            "api_url": f"{reverse('api-time-report')}?{urlencode(query)}" if query else reverse("api-time-report"),
            "idle_cutoff_min": settings.ACTIVITY_IDLE_CUTOFF_S // 60,
            "cache_minutes": -(-settings.TIME_REPORT_CACHE_S // 60) if settings.TIME_REPORT_CACHE_S > 0 else 0,
            "quartile_method": reports.QUARTILE_METHOD,
        },
    )
