"""The pipeline's infrastructure: specifications, planner, executor, status, teardown."""
