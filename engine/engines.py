"""The executors a run can ask for (``--engine``): a name only, so that parsing the command
line imports nothing heavy."""

ENGINES = ("auto", "durable-rules", "native")
