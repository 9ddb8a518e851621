from django.contrib import admin

from course.cohorts.models import Cohort, Enrollment


class EnrollmentInline(admin.TabularInline):
    model = Enrollment
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ("name", "starts_on", "created_at")
    search_fields = ("name",)
    inlines = [EnrollmentInline]


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ("cohort", "user", "role", "joined_at")
    list_filter = ("cohort", "role")
    search_fields = ("user__username", "cohort__name")
