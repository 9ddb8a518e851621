from django.urls import path

from course.accounts.api import TokenApi
from course.cohorts.api import CohortDashboardApi, CohortProgressApi, CohortSettingsApi
from course.curriculum.api import (
    BundleUploadCreateApi,
    BundleUploadDetailApi,
    ExerciseDetailApi,
    ExerciseHelpApi,
    ExerciseHintApi,
    ExerciseNotebookApi,
    ExerciseSolutionApi,
    ExerciseStarterApi,
    ModuleListApi,
)
from course.progress.api import ActivityApi, TimeReportApi
from course.submissions.api import (
    ExerciseStatisticsApi,
    RegradeCreateApi,
    RegradeDetailApi,
    SubmissionCreateApi,
    SubmissionDetailApi,
    SubmissionListApi,
)

urlpatterns = [
    path("auth/token", TokenApi.as_view(), name="api-token"),
    path("modules", ModuleListApi.as_view(), name="api-modules"),
    path("exercises/<slug:slug>", ExerciseDetailApi.as_view(), name="api-exercise"),
    path("exercises/<slug:slug>/notebook", ExerciseNotebookApi.as_view(), name="api-exercise-notebook"),
    path("exercises/<slug:slug>/help", ExerciseHelpApi.as_view(), name="api-exercise-help"),
    path("exercises/<slug:slug>/hints", ExerciseHintApi.as_view(), name="api-exercise-hint"),
    path("exercises/<slug:slug>/solution", ExerciseSolutionApi.as_view(), name="api-exercise-solution"),
    path("exercises/<slug:slug>/starter", ExerciseStarterApi.as_view(), name="api-exercise-starter"),
    path("bundles", BundleUploadCreateApi.as_view(), name="api-bundle-upload"),
    path("bundles/<int:upload_id>", BundleUploadDetailApi.as_view(), name="api-bundle-upload-detail"),
    path("exercises/<slug:slug>/submissions", SubmissionCreateApi.as_view(), name="api-submission-create"),
    path("submissions", SubmissionListApi.as_view(), name="api-submissions"),
    path("submissions/<int:submission_id>", SubmissionDetailApi.as_view(), name="api-submission"),
    path("exercises/<slug:slug>/regrade", RegradeCreateApi.as_view(), name="api-regrade-create"),
    path("exercises/<slug:slug>/statistics", ExerciseStatisticsApi.as_view(), name="api-exercise-statistics"),
    path("regrades/<int:regrade_id>", RegradeDetailApi.as_view(), name="api-regrade"),
    path("activity", ActivityApi.as_view(), name="api-activity"),
    path("reports/time", TimeReportApi.as_view(), name="api-time-report"),
    path("cohorts/<int:cohort_id>", CohortSettingsApi.as_view(), name="api-cohort"),
    path("cohorts/<int:cohort_id>/progress", CohortProgressApi.as_view(), name="api-cohort-progress"),
    path("cohorts/<int:cohort_id>/dashboard", CohortDashboardApi.as_view(), name="api-cohort-dashboard"),
]
