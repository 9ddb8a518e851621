"""The admin's rows, cut to what the viewer may see: an instructor sees their cohorts, organisers all.

The same rule as the API and the pages (``course.cohorts.selectors``): a model admin names the path
to the learner (or the cohort) a row is about, and its list, change pages, search and autocomplete
only ever reach rows inside the viewer's cohorts.
"""

from __future__ import annotations

from django.contrib import admin

from course.cohorts.selectors import learner_ids_visible_to, sees_every_cohort, staff_cohort_ids


class LearnerScopedAdmin(admin.ModelAdmin):
    """Rows about one learner; ``learner_field`` is the lookup path to that learner."""

    learner_field = "learner"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        ids = learner_ids_visible_to(request.user)
        return qs if ids is None else qs.filter(**{f"{self.learner_field}__in": ids})


class CohortScopedAdmin(admin.ModelAdmin):
    """Rows about one cohort; ``cohort_field`` is the lookup path to its id. Only organisers write."""

    cohort_field = "cohort_id"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if sees_every_cohort(request.user):
            return qs
        return qs.filter(**{f"{self.cohort_field}__in": staff_cohort_ids(request.user)})

    # An instructor who could add enrolments could enrol themselves as staff of any cohort.
    def has_add_permission(self, request, obj=None) -> bool:
        return sees_every_cohort(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return sees_every_cohort(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return sees_every_cohort(request.user) and super().has_delete_permission(request, obj)
