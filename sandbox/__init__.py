"""The grading sandbox: image definition, the code that runs inside containers, the Docker driver."""
