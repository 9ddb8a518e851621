from django.contrib import admin

from course.curriculum.models import Exercise, ExerciseVersion, Module


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "position", "estimated_hours")
    filter_horizontal = ("requires",)
    search_fields = ("slug", "title")


@admin.register(Exercise)
class ExerciseAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "module", "current_version")
    list_filter = ("module",)
    search_fields = ("slug", "title")


@admin.register(ExerciseVersion)
class ExerciseVersionAdmin(admin.ModelAdmin):
    list_display = ("exercise", "content_hash", "points", "gpu", "created_at")
    list_filter = ("gpu",)
    readonly_fields = [f.name for f in ExerciseVersion._meta.fields]

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # versions are immutable
