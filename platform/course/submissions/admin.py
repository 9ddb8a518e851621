from django.contrib import admin

from course.submissions.models import Submission, TestResult


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
