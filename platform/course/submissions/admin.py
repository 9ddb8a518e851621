from django.contrib import admin

from course.submissions.models import Regrade, Submission, TestResult


class TestResultInline(admin.TabularInline):
    model = TestResult
    extra = 0
    readonly_fields = ("name", "status", "score", "max_score", "visibility", "output")
    can_delete = False


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("id", "learner", "exercise", "status", "verdict", "score", "max_score", "queued_at", "attempts")
    list_filter = ("status", "verdict", "exercise__module")
    search_fields = ("learner__username", "exercise__slug")
    readonly_fields = ("queued_at", "started_at", "finished_at", "worker", "attempts", "result")
    inlines = [TestResultInline]


@admin.register(TestResult)
class TestResultAdmin(admin.ModelAdmin):
    list_display = ("submission", "name", "status", "score", "max_score", "visibility")
    list_filter = ("status", "visibility")


@admin.register(Regrade)
class RegradeAdmin(admin.ModelAdmin):
    list_display = ("id", "exercise", "version", "requested_by", "created_at", "progress", "lowered")
    readonly_fields = ("exercise", "version", "requested_by", "total", "created_at", "progress", "lowered")

    def has_add_permission(self, request) -> bool:
        return False  # started from an exercise (admin action or API), never typed in

    @admin.display(description="done / total")
    def progress(self, obj: Regrade) -> str:
        from course.submissions.selectors import regrade_status

        status = regrade_status(regrade=obj)
        return f"{status['done']} / {status['total']}"

    @admin.display(description="scores lowered")
    def lowered(self, obj: Regrade) -> str:
        from course.submissions.selectors import regrade_status

        rows = regrade_status(regrade=obj)["lowered"]
        return ", ".join(f"{r['learner']} {r['before']:g}->{r['after']:g}" for r in rows) or "none"
