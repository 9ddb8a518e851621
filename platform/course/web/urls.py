from django.urls import path

from course.web import views

app_name = "web"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("exercises/<slug:slug>/", views.exercise, name="exercise"),
    path("exercises/<slug:slug>/submit", views.submit, name="submit"),
    path("cohorts/<int:cohort_id>/", views.cohort, name="cohort"),
    path("cohorts/<int:cohort_id>/prerequisites", views.cohort_prerequisites, name="cohort-prerequisites"),
    path("staff/exercises/<slug:slug>/", views.exercise_stats, name="exercise-stats"),
    path("staff/exercises/<slug:slug>/regrade", views.regrade, name="regrade"),
]
