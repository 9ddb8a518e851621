from django.contrib import admin

from course.cohorts.admin_scope import CohortScopedAdmin
from course.cohorts.models import Cohort, Enrollment
from course.cohorts.selectors import sees_every_cohort


class EnrollmentInline(admin.TabularInline):
    model = Enrollment
    extra = 0
    autocomplete_fields = ["user"]

    def has_add_permission(self, request, obj=None) -> bool:
        return sees_every_cohort(request.user) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return sees_every_cohort(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return sees_every_cohort(request.user) and super().has_delete_permission(request, obj)


@admin.register(Cohort)
class CohortAdmin(CohortScopedAdmin):
    cohort_field = "id"
    list_display = ("name", "starts_on", "prerequisites_advisory", "created_at")
    search_fields = ("name",)
    inlines = [EnrollmentInline]


@admin.register(Enrollment)
class EnrollmentAdmin(CohortScopedAdmin):
    list_display = ("cohort", "user", "role", "joined_at")
    list_filter = (("cohort", admin.RelatedOnlyFieldListFilter), "role")
    search_fields = ("user__username", "cohort__name")
