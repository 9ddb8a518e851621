from django.contrib import admin

from course.progress.models import ActivityDay, ExerciseProgress, LearnerClock


@admin.register(ExerciseProgress)
class ExerciseProgressAdmin(admin.ModelAdmin):
    list_display = ("learner", "exercise", "state", "best_score", "max_score", "attempts", "passed_at")
    list_filter = ("state", "exercise__module")
    search_fields = ("learner__username", "exercise__slug")


@admin.register(ActivityDay)
class ActivityDayAdmin(admin.ModelAdmin):
    list_display = ("learner", "exercise", "day", "seconds", "heartbeats")
    list_filter = ("day",)
    search_fields = ("learner__username", "exercise__slug")


@admin.register(LearnerClock)
class LearnerClockAdmin(admin.ModelAdmin):
    list_display = ("learner", "last_seen_at", "last_exercise")
    search_fields = ("learner__username",)
