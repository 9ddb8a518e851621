from django.contrib import admin

from course.cohorts.admin_scope import LearnerScopedAdmin
from course.submissions.models import Regrade, Submission, TestResult
from course.submissions.selectors import regrade_status, regrades_visible_to


class TestResultInline(admin.TabularInline):
    model = TestResult
    extra = 0
    readonly_fields = ("name", "status", "score", "max_score", "visibility", "output")
    can_delete = False


@admin.register(Submission)
class SubmissionAdmin(LearnerScopedAdmin):
    list_display = ("id", "learner", "exercise", "status", "verdict", "score", "max_score", "queued_at", "attempts")
    list_filter = ("status", "verdict", "exercise__module")
    search_fields = ("learner__username", "exercise__slug")
    readonly_fields = ("queued_at", "started_at", "finished_at", "worker", "attempts", "result")
    inlines = [TestResultInline]


@admin.register(TestResult)
class TestResultAdmin(LearnerScopedAdmin):
    learner_field = "submission__learner"
    list_display = ("submission", "name", "status", "score", "max_score", "visibility")
    list_filter = ("status", "visibility")


@admin.register(Regrade)
class RegradeAdmin(admin.ModelAdmin):
    """Regrades, and their progress counted over the learners the viewer may see (as in the API)."""

    list_display = ("id", "exercise", "version", "requested_by", "created_at")
    readonly_fields = ("exercise", "version", "requested_by", "total", "created_at")

    def has_add_permission(self, request) -> bool:
        return False  # started from an exercise (admin action or API), never typed in

    def get_queryset(self, request):
        return regrades_visible_to(request.user)

    def get_list_display(self, request):
        return (*self.list_display, *self._status_columns(request))

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "progress", "lowered")

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj.viewer = request.user  # what the change page shows depends on who looks
        return obj

    @admin.display(description="done / total")
    def progress(self, obj: Regrade) -> str:
        status = regrade_status(regrade=obj, viewer=obj.viewer)
        return f"{status['done']} / {status['total']}"

    @admin.display(description="scores lowered")
    def lowered(self, obj: Regrade) -> str:
        rows = regrade_status(regrade=obj, viewer=obj.viewer)["lowered"]
        return ", ".join(f"{r['learner']} {r['before']:g}->{r['after']:g}" for r in rows) or "none"

    def _status_columns(self, request):
        # The list's columns, built per request for the same reason.
        def with_viewer(column):
            def show(obj: Regrade) -> str:
                obj.viewer = request.user
                return column(obj)

            show.short_description = column.short_description
            return show

        return (with_viewer(self.progress), with_viewer(self.lowered))
