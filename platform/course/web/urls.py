from django.urls import path

from course.web import views

app_name = "web"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("exercises/<slug:slug>/", views.exercise, name="exercise"),
    path("exercises/<slug:slug>/submit", views.submit, name="submit"),
    path("exercises/<slug:slug>/hint", views.reveal, {"kind": "hint"}, name="reveal-hint"),
    path("exercises/<slug:slug>/solution", views.reveal, {"kind": "solution"}, name="reveal-solution"),
    path("cohorts/<int:cohort_id>/", views.cohort, name="cohort"),
    path("cohorts/<int:cohort_id>/settings", views.cohort_settings, name="cohort-settings"),
    path("staff/exercises/<slug:slug>/", views.exercise_stats, name="exercise-stats"),
    path("staff/exercises/<slug:slug>/regrade", views.regrade, name="regrade"),
    path("reports/time", views.time_report, name="time-report"),
]
