from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from course.accounts.models import User


@admin.register(User)
class CourseUserAdmin(UserAdmin):
    list_display = ("username", "email", "role", "is_staff", "is_active", "date_joined")
    list_filter = ("role", "is_staff", "is_active")
    fieldsets = UserAdmin.fieldsets + (("Course", {"fields": ("role",)}),)
    add_fieldsets = UserAdmin.add_fieldsets + (("Course", {"fields": ("role",)}),)
