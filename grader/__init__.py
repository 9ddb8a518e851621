"""The grading engine: a plain library (no Django) that grades a notebook against a bundle."""
