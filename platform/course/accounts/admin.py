from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from course.accounts.models import User

# What only a superuser may give: rights that reach beyond the course roles.
RIGHTS_FIELDS = ("is_superuser", "is_staff", "groups", "user_permissions")


@admin.register(User)
class CourseUserAdmin(UserAdmin):
    """Users for staff; nobody but a superuser can raise anyone's rights, their own included."""

    list_display = ("username", "email", "role", "is_staff", "is_active", "date_joined")
    list_filter = ("role", "is_staff", "is_active")
    fieldsets = UserAdmin.fieldsets + (("Course", {"fields": ("role",)}),)
    add_fieldsets = UserAdmin.add_fieldsets + (("Course", {"fields": ("role",)}),)

    def get_queryset(self, request):
        from course.cohorts.selectors import learner_ids_visible_to

        qs = super().get_queryset(request)
        ids = learner_ids_visible_to(request.user)
        return qs if ids is None else qs.filter(id__in=ids)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return fields
        # The admin role is a course role: it may not make itself (or anyone) more than that.
        return (*fields, *RIGHTS_FIELDS, "role")

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False  # a superuser's account (and its password form) is for superusers
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        target = self.get_object(request, admin.utils.unquote(id))
        if target is not None and target.is_superuser and not request.user.is_superuser:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        return super().user_change_password(request, id, form_url)
