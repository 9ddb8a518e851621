from django.contrib import admin

from course.curriculum.models import BundleUpload, Exercise, ExerciseVersion, Module, SandboxEnvironment, Step


@admin.register(Step)
class StepAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "position", "published_low_hours", "published_high_hours")


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "position", "estimated_hours", "step")
    filter_horizontal = ("requires",)
    search_fields = ("slug", "title")


@admin.register(Exercise)
class ExerciseAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "module", "checkpoint", "current_version")
    list_filter = ("module", "checkpoint")
    search_fields = ("slug", "title")
    actions = ["regrade"]

    @admin.action(description="Regrade all submissions against the current version")
    def regrade(self, request, queryset):
        from django.contrib import messages
        from django.urls import reverse
        from django.utils.html import format_html

        from course.submissions.services import regrade_start

        for exercise in queryset:
            regrade = regrade_start(exercise_slug=exercise.slug, requested_by=request.user)
            url = reverse("admin:submissions_regrade_change", args=[regrade.id])
            self.message_user(
                request,
                format_html(
                    'Regrading {} submission(s) of {}: <a href="{}">follow its progress</a>.',
                    regrade.total,
                    exercise.slug,
                    url,
                ),
                messages.SUCCESS,
            )


@admin.register(ExerciseVersion)
class ExerciseVersionAdmin(admin.ModelAdmin):
    list_display = ("exercise", "content_hash", "points", "gpu", "environment", "created_at")
    list_filter = ("gpu",)
    readonly_fields = [f.name for f in ExerciseVersion._meta.fields]

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # versions are immutable


@admin.register(BundleUpload)
class BundleUploadAdmin(admin.ModelAdmin):
    """The upload page: choose a zip; the validation report appears here when it is done."""

    list_display = ("id", "archive", "uploaded_by", "status", "version", "created_at")
    list_filter = ("status",)
    fields = ("archive", "module", "status", "version", "report_text")
    readonly_fields = ("status", "version", "report_text")

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields + (("archive", "module") if obj else ())

    def save_model(self, request, obj, form, change):
        if change:
            return
        from course.curriculum.services import bundle_upload_create

        created = bundle_upload_create(user=request.user, archive=obj.archive, module=obj.module)
        obj.pk = created.pk

    @admin.display(description="validation report")
    def report_text(self, obj: BundleUpload) -> str:
        from django.utils.html import format_html

        if not obj.report:
            return "waiting for validation (reload this page)"
        lines = [
            f"[{'ok' if c['ok'] else 'warn' if c.get('warning') else 'FAIL'}] {c['name']}: {c.get('message', '')}"
            for c in obj.report.get("checks", [])
        ]
        return format_html("<pre>{}</pre>", "\n".join(lines))


@admin.register(SandboxEnvironment)
class SandboxEnvironmentAdmin(admin.ModelAdmin):
    """Read-only: workers write these when they start."""

    list_display = ("name", "image", "registered_by", "updated_at")
    readonly_fields = ("name", "image", "description", "heavy_modules", "packages", "registered_by", "updated_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
