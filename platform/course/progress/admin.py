from django.contrib import admin

from course.cohorts.admin_scope import LearnerScopedAdmin
from course.progress.models import ActivityDay, ExerciseProgress, LearnerClock, Reveal


@admin.register(ExerciseProgress)
class ExerciseProgressAdmin(LearnerScopedAdmin):
    list_display = ("learner", "exercise", "state", "best_score", "max_score", "attempts", "passed_at")
    list_filter = ("state", "exercise__module")
    search_fields = ("learner__username", "exercise__slug")


@admin.register(ActivityDay)
class ActivityDayAdmin(LearnerScopedAdmin):
    list_display = ("learner", "exercise", "day", "seconds", "heartbeats")
    list_filter = ("day",)
    search_fields = ("learner__username", "exercise__slug")


@admin.register(LearnerClock)
class LearnerClockAdmin(LearnerScopedAdmin):
    list_display = ("learner", "last_seen_at", "last_exercise")
    search_fields = ("learner__username",)


@admin.register(Reveal)
class RevealAdmin(LearnerScopedAdmin):
    list_display = ("learner", "exercise", "kind", "number", "revealed_at")
    list_filter = ("kind", "exercise__module")
    search_fields = ("learner__username", "exercise__slug")
