from django.contrib import admin

from course.progress.models import ActivitySession, ExerciseProgress


@admin.register(ExerciseProgress)
class ExerciseProgressAdmin(admin.ModelAdmin):
    list_display = ("learner", "exercise", "state", "best_score", "max_score", "attempts", "passed_at")
    list_filter = ("state", "exercise__module")
    search_fields = ("learner__username", "exercise__slug")


@admin.register(ActivitySession)
class ActivitySessionAdmin(admin.ModelAdmin):
    list_display = ("learner", "exercise", "started_at", "last_seen_at", "seconds")
    search_fields = ("learner__username", "exercise__slug")
